using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace MeterAgent.Ledger.Redis;

/// <summary>
/// The one <see cref="IConnectionMultiplexer"/> a replica shares between its stores, with the key layout and the Lua
/// scripts. A script is loaded once on every primary (<c>SCRIPT LOAD</c>) and then called by its SHA-1
/// (<c>EVALSHA</c>); a primary that does not know it (restarted without its script cache, or promoted after a failover)
/// answers NOSCRIPT, and the call is made again with the source (<c>EVAL</c>), which caches it there.
/// </summary>
public sealed class RedisConnection : IAsyncDisposable
{
    private readonly bool _ownsMultiplexer;
    private readonly ConcurrentDictionary<RedisScript, Lazy<Task<byte[]?>>> _loaded = new();

    public RedisConnection(IConnectionMultiplexer multiplexer, string keyPrefix, TimeSpan reservationRetention, bool ownsMultiplexer = false)
    {
        ArgumentNullException.ThrowIfNull(multiplexer);
        Multiplexer = multiplexer;
        Keys = new RedisKeys(keyPrefix);
        ReservationRetention = reservationRetention;
        _ownsMultiplexer = ownsMultiplexer;
    }

    /// <summary>Connects as <paramref name="options"/> say (the DI extension's way; validated options assumed).</summary>
    public RedisConnection(IOptions<RedisStoreOptions> options)
        : this(Connect(options), options.Value.KeyPrefix, options.Value.ReservationRetention, ownsMultiplexer: true)
    {
    }

    public IConnectionMultiplexer Multiplexer { get; }

    public IDatabase Database => Multiplexer.GetDatabase();

    public RedisKeys Keys { get; }

    public TimeSpan ReservationRetention { get; }

    /// <summary>Scripts run by SHA (EVALSHA) and again by source (EVAL) after NOSCRIPT; tests read them.</summary>
    internal long ScriptFallbacks => Interlocked.Read(ref _scriptFallbacks);

    private long _scriptFallbacks;

    /// <summary>
    /// Runs <paramref name="script"/> against the slot of <paramref name="key"/> (all the keys it touches share that
    /// key's hash tag). Every script is atomic; a retry after a timeout is safe because each is idempotent by its id.
    /// </summary>
    public async Task<RedisResult> EvaluateAsync(RedisScript script, RedisKey key, RedisValue[] args)
    {
        var sha = await _loaded.GetOrAdd(script, s => new Lazy<Task<byte[]?>>(() => LoadAsync(s))).Value;
        RedisKey[] keys = [key];
        if (sha is not null)
        {
            try
            {
                return await Database.ScriptEvaluateAsync(sha, keys, args);
            }
            catch (RedisServerException ex) when (ex.Message.StartsWith("NOSCRIPT", StringComparison.Ordinal))
            {
                Interlocked.Increment(ref _scriptFallbacks);
            }
        }

        return await Database.ScriptEvaluateAsync(script.Source, keys, args);
    }

    public async ValueTask DisposeAsync()
    {
        if (_ownsMultiplexer)
        {
            await Multiplexer.DisposeAsync();
        }
    }

    /// <summary>SCRIPT LOAD on every connected primary; null (always EVAL) when none answered.</summary>
    private async Task<byte[]?> LoadAsync(RedisScript script)
    {
        byte[]? sha = null;
        foreach (var endpoint in Multiplexer.GetEndPoints())
        {
            var server = Multiplexer.GetServer(endpoint);
            if (server.IsConnected && !server.IsReplica)
            {
                sha = await server.ScriptLoadAsync(script.Source);
            }
        }

        return sha;
    }

    private static ConnectionMultiplexer Connect(IOptions<RedisStoreOptions> options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var configuration = ConfigurationOptions.Parse(options.Value.ConnectionString ?? throw new InvalidOperationException("Redis:ConnectionString is not set."));

        // Keep trying in the background rather than failing the host: readiness reports an unreachable Redis.
        configuration.AbortOnConnectFail = false;

        // Reconnect attempts at most 2 s apart, however long the outage: the default policy backs off to 10 s per
        // connection, so a replica could refuse requests (fail_closed) for that long after Redis is back. An attempt
        // against a server that is down is one refused TCP connect.
        configuration.ReconnectRetryPolicy = new ExponentialRetry(deltaBackOffMilliseconds: 500, maxDeltaBackOffMilliseconds: 2000);
        return ConnectionMultiplexer.Connect(configuration);
    }
}
