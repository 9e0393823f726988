using System.Globalization;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace MeterAgent.Ledger.Redis.Log;

/// <summary>
/// The log lease: one replica at a time appends shipped records to the shared log and signs its checkpoints and
/// statements. Acquiring it (SET NX PX, in a script) takes a new fencing token (INCR); the holder renews it every third
/// of <see cref="RedisLogOptions.LogLeaseTtl"/> and gives it up when a renewal is refused or fails, or when it stops.
/// Safety does not rest on the timing: every write to the log carries the token, and the scripts refuse any token but
/// the latest, so a holder that lost the lease without knowing it (paused, partitioned) changes nothing.
/// </summary>
public sealed partial class RedisLogLease(
    IConnectionMultiplexer redis, RedisLogKeys keys, IOptions<RedisLogOptions> options, TimeProvider time, ILogger<RedisLogLease> logger)
    : BackgroundService
{
    private readonly Lock _lock = new();
    private string? _value;
    private long? _token;
    private long _renewedAt;

    /// <summary>The fencing token while this replica holds the lease; null otherwise.</summary>
    public long? Token
    {
        get
        {
            lock (_lock)
            {
                return _token;
            }
        }
    }

    /// <summary>Whether this replica holds the lease (as far as it knows: the scripts have the last word).</summary>
    public bool IsHolder => Token is not null;

    private IDatabase Db => redis.GetDatabase();

    private TimeSpan Ttl => options.Value.LogLeaseTtl;

    /// <summary>Takes the lease if it is free; returns the token, or null while another replica holds it.</summary>
    public async Task<long?> TryAcquireAsync()
    {
        var result = (RedisResult[])(await Db.ScriptEvaluateAsync(RedisLogScripts.Acquire, [keys.Lease, keys.Fence],
            [options.Value.ReplicaId, (long)Ttl.TotalMilliseconds]))!;
        var token = (long)result[0];
        if (token == 0)
        {
            return null;
        }

        lock (_lock)
        {
            _value = (string)result[1]!;
            _token = token;
            _renewedAt = time.GetTimestamp();
        }

        LogAcquired(options.Value.ReplicaId, token);
        return token;
    }

    /// <summary>Extends the lease; false (and the lease is dropped here) when it is no longer this replica's.</summary>
    public async Task<bool> RenewAsync()
    {
        string? value;
        lock (_lock)
        {
            value = _value;
        }

        if (value is null)
        {
            return false;
        }

        var renewed = (long)await Db.ScriptEvaluateAsync(RedisLogScripts.Renew, [keys.Lease], [value, (long)Ttl.TotalMilliseconds]) == 1;
        if (renewed)
        {
            lock (_lock)
            {
                _renewedAt = time.GetTimestamp();
            }
        }
        else
        {
            Drop("its renewal was refused: another replica holds it");
        }

        return renewed;
    }

    /// <summary>Gives the lease up (stopping): another replica can take it at once instead of after the TTL.</summary>
    public async Task ReleaseAsync()
    {
        string? value;
        lock (_lock)
        {
            value = _value;
            _value = null;
            _token = null;
        }

        if (value is not null)
        {
            await Db.ScriptEvaluateAsync(RedisLogScripts.Release, [keys.Lease], [value]);
            LogReleased(options.Value.ReplicaId);
        }
    }

    /// <summary>Stops acting as the holder, e.g. after a write was refused for a stale token.</summary>
    public void Drop(string reason)
    {
        long? token;
        lock (_lock)
        {
            token = _token;
            _value = null;
            _token = null;
        }

        if (token is not null)
        {
            LogLost(options.Value.ReplicaId, token.Value, reason);
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var period = Ttl / 3;
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                try
                {
                    if (IsHolder)
                    {
                        await RenewAsync();
                    }
                    else
                    {
                        await TryAcquireAsync();
                    }
                }
                catch (Exception ex) when (RedisUnavailable.IsConnectionFailure(ex))
                {
                    // The lease may still be ours in Redis, but a holder that cannot reach Redis cannot write the log
                    // either; past the TTL another replica may hold it, so stop acting before then.
                    bool expired;
                    lock (_lock)
                    {
                        expired = _token is not null && time.GetElapsedTime(_renewedAt) >= Ttl - period;
                    }

                    if (expired)
                    {
                        Drop("it could not be renewed within its TTL");
                    }

                    LogRedisFailed(ex);
                }

                await Task.Delay(period, time, stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping: released below.
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        try
        {
            await ReleaseAsync();
        }
        catch (Exception ex) when (RedisUnavailable.IsConnectionFailure(ex))
        {
            LogRedisFailed(ex); // it expires after the TTL
        }
    }

    /// <summary>The token as the scripts take it.</summary>
    internal static string Format(long token) => token.ToString(CultureInfo.InvariantCulture);

    [LoggerMessage(Level = LogLevel.Information, Message = "Replica {ReplicaId} holds the log lease with fencing token {Token}")]
    private partial void LogAcquired(string replicaId, long token);

    [LoggerMessage(Level = LogLevel.Information, Message = "Replica {ReplicaId} released the log lease")]
    private partial void LogReleased(string replicaId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Replica {ReplicaId} lost the log lease (token {Token}): {Reason}")]
    private partial void LogLost(string replicaId, long token, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The log lease could not reach Redis")]
    private partial void LogRedisFailed(Exception exception);
}
