using MeterAgent.Ledger.Availability;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace MeterAgent.Ledger.Redis;

/// <summary>
/// Whether this replica can reach Redis now. Down from the first sign (the multiplexer's <c>ConnectionFailed</c>, a
/// disconnected multiplexer, or a call that failed with <see cref="RedisConnectionException"/> or
/// <see cref="RedisTimeoutException"/>) until the connection is restored and answers a PING. Calls made while it is down
/// would wait in the multiplexer's backlog for the full timeout: callers look here first and fail fast instead.
/// </summary>
public sealed partial class RedisAvailability : IStoreAvailability, IDisposable
{
    private readonly IConnectionMultiplexer _multiplexer;
    private readonly ILogger<RedisAvailability> _logger;
    private int _failed;

    public RedisAvailability(RedisConnection redis, IOptions<RedisStoreOptions> options, ILogger<RedisAvailability> logger)
    {
        ArgumentNullException.ThrowIfNull(redis);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(logger);
        _multiplexer = redis.Multiplexer;
        _logger = logger;
        Policy = options.Value.OutagePolicy == RedisStoreOptions.FailOpen ? OutagePolicy.FailOpen : OutagePolicy.FailClosed;
        RetryAfter = options.Value.OutageRetryAfter;
        _multiplexer.ConnectionFailed += OnConnectionFailed;
        _multiplexer.ConnectionRestored += OnConnectionRestored;
    }

    /// <summary>Raised when the connection comes back (the outbox replays at once).</summary>
    public event EventHandler? Restored;

    public bool IsAvailable => Volatile.Read(ref _failed) == 0 && _multiplexer.IsConnected;

    public OutagePolicy Policy { get; }

    public TimeSpan RetryAfter { get; }

    public bool IsOutage(Exception exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            // The socket pipe's refusal of a write once the connection closed under it is the same outage.
            if (e is RedisConnectionException or RedisTimeoutException || RedisUnavailable.IsClosedPipe(e))
            {
                return true;
            }

            if (e is AggregateException aggregate && aggregate.InnerExceptions.Any(IsOutage))
            {
                return true;
            }
        }

        return false;
    }

    public void Report(Exception exception)
    {
        if (Interlocked.Exchange(ref _failed, 1) == 0)
        {
            LogDown(exception.GetType().Name, exception.Message);
        }
    }

    /// <summary>While marked down but connected, one PING decides: an answer clears the mark.</summary>
    public async Task<bool> ProbeAsync()
    {
        if (IsAvailable)
        {
            return true;
        }

        if (!_multiplexer.IsConnected)
        {
            return false;
        }

        try
        {
            await _multiplexer.GetDatabase().PingAsync();
        }
        catch (Exception ex) when (IsOutage(ex))
        {
            return false;
        }

        MarkUp();
        return IsAvailable;
    }

    public void Dispose()
    {
        _multiplexer.ConnectionFailed -= OnConnectionFailed;
        _multiplexer.ConnectionRestored -= OnConnectionRestored;
    }

    private void OnConnectionFailed(object? sender, ConnectionFailedEventArgs e)
    {
        if (Interlocked.Exchange(ref _failed, 1) == 0)
        {
            LogDown(e.FailureType.ToString(), e.Exception?.Message ?? string.Empty);
        }
    }

    private void OnConnectionRestored(object? sender, ConnectionFailedEventArgs e) => MarkUp();

    /// <summary>
    /// Clears the mark, and tells <see cref="Restored"/> whenever Redis is usable after it, not only when the mark
    /// was set: the multiplexer's connections come back one by one, and the first one back (the subscription, say)
    /// clears the mark while calls still cannot be sent; the one that makes it usable must wake the outbox too.
    /// </summary>
    private void MarkUp()
    {
        if (Interlocked.Exchange(ref _failed, 0) == 1)
        {
            LogUp();
        }

        if (IsAvailable)
        {
            Restored?.Invoke(this, EventArgs.Empty);
        }
    }

    [LoggerMessage(EventId = 1301, Level = LogLevel.Warning, Message = "Redis unavailable ({Reason}: {Detail}); outage policy applies")]
    private partial void LogDown(string reason, string detail);

    [LoggerMessage(EventId = 1302, Level = LogLevel.Information, Message = "Redis reachable again")]
    private partial void LogUp();
}
