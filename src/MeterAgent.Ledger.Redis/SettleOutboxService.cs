using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace MeterAgent.Ledger.Redis;

/// <summary>
/// Replays the settle outbox: at start, then every second while any intent is pending, and at once when the Redis
/// connection is restored. While Redis is unreachable it only probes, every second: a probe costs nothing while the
/// connection is down (the multiplexer reconnects on its own) and one PING once it is back, so there is nothing to
/// back off from, and a replica is usable again (its fail_closed refusals lifted, its settles posted) within a second
/// of Redis answering, however long the outage was.
/// </summary>
public sealed partial class SettleOutboxService(RedisCreditLedger ledger, RedisAvailability availability, ILogger<SettleOutboxService> logger)
    : BackgroundService
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);

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

                await _wake.WaitAsync(Interval, stoppingToken);
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
