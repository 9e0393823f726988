using MeterAgent.Ledger.Redis.Log;
using MeterAgent.Observability;

namespace MeterAgent.Log;

/// <summary>
/// Distributed mode: every second a replica that does not hold the log lease takes the shared checkpoint and catches
/// its tree up to it, so any replica serves the checkpoint, tiles, proofs and statements the holder published. Also
/// the shipping and lease gauges.
/// </summary>
internal sealed partial class SharedLogFollower : BackgroundService
{
    private static readonly TimeSpan Period = TimeSpan.FromSeconds(1);

    private readonly CheckpointPublisher _publisher;
    private readonly RedisLogLease _lease;
    private readonly TimeProvider _time;
    private readonly ILogger<SharedLogFollower> _logger;

    public SharedLogFollower(
        CheckpointPublisher publisher, RedisLogLease lease, RecordShipper shipper, MeterAgentMetrics metrics, TimeProvider time, ILogger<SharedLogFollower> logger)
    {
        _publisher = publisher;
        _lease = lease;
        _time = time;
        _logger = logger;
        metrics.Gauge("meteragent.log.ship_backlog", "{entry}", "Closed records in this replica's local log not shipped to Redis yet.", () => shipper.Backlog);
        metrics.Meter.CreateObservableGauge("meteragent.log.ship_lag", () => shipper.Lag.TotalSeconds, "s",
            "How long the oldest closed record not shipped to Redis yet has been closed (0 when none waits).");
        metrics.Gauge("meteragent.log.lease_held", "1", "1 while this replica holds the log lease (appends, signs, closes statements).", () => lease.IsHolder ? 1 : 0);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await Task.Yield();
        if (!_publisher.IsEnabled)
        {
            return;
        }

        using var timer = new PeriodicTimer(Period, _time);
        try
        {
            do
            {
                if (_lease.IsHolder)
                {
                    continue; // the holder publishes (CheckpointSchedule)
                }

                try
                {
                    await _publisher.PublishIfGrownAsync(stoppingToken);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    LogFollowFailed(ex);
                }
            }
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping.
        }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Following the shared checkpoint failed; the next second tries again")]
    private partial void LogFollowFailed(Exception exception);
}
