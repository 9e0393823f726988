using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace MeterAgent.Ledger.Redis;

/// <summary>
/// Replays the settle outbox: at start, then every second while any intent is pending, and at once when the Redis
/// connection is restored. While Redis is unreachable it only probes, backing off from one second to
/// <see cref="MaxBackoff"/>.
/// </summary>
public sealed partial class SettleOutboxService(RedisCreditLedger ledger, RedisAvailability availability, ILogger<SettleOutboxService> logger)
    : BackgroundService
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);

    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(10);

    private readonly SemaphoreSlim _wake = new(0, 1);

    public override void Dispose()
    {
        _wake.Dispose();
        base.Dispose();
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        availability.Restored += OnRestored;

        // Local grants (fail_open) a previous run left in the outbox hold their lease again before anything is granted.
        ledger.RestoreLocalGrants();
        var backoff = Interval;
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                if (!availability.IsAvailable)
                {
                    await availability.ProbeAsync();
                }

                if (availability.IsAvailable)
                {
                    backoff = Interval;
                    if (ledger.PendingSettles > 0)
                    {
                        try
                        {
                            await ledger.ReplayPendingAsync(stoppingToken);
                        }
                        catch (Exception ex) when (ex is not OperationCanceledException)
                        {
                            // The intents stay; the next pass tries again.
                            LogReplayFailed(ex);
                        }
                    }
                }

                var wait = availability.IsAvailable ? Interval : backoff;
                if (!availability.IsAvailable)
                {
                    backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, MaxBackoff.Ticks));
                }

                await _wake.WaitAsync(wait, stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping: what is pending stays in the outbox for the next start.
        }
        finally
        {
            availability.Restored -= OnRestored;
        }
    }

    private void OnRestored(object? sender, EventArgs e)
    {
        try
        {
            if (_wake.CurrentCount == 0)
            {
                _wake.Release();
            }
        }
        catch (Exception ex) when (ex is SemaphoreFullException or ObjectDisposedException)
        {
            // Already woken, or stopping.
        }
    }

    [LoggerMessage(EventId = 1305, Level = LogLevel.Warning, Message = "Settle outbox replay failed; the next pass tries again")]
    private partial void LogReplayFailed(Exception exception);
}
