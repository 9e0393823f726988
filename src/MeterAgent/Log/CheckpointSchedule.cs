using Microsoft.Extensions.Options;

namespace MeterAgent.Log;

/// <summary>
/// Publishes a checkpoint at start and then every Attestation:CheckpointInterval when the log has grown, so a reader
/// polling <c>/log/checkpoint</c> sees new records within that interval without asking for them.
/// </summary>
internal sealed partial class CheckpointSchedule(
    CheckpointPublisher publisher, IOptions<LogOptions> options, TimeProvider time, ILogger<CheckpointSchedule> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // The first catch-up reads the whole log from the store: not on the start-up path.
        await Task.Yield();
        if (!publisher.IsEnabled)
        {
            return;
        }

        using var timer = new PeriodicTimer(options.Value.CheckpointInterval, time);
        try
        {
            do
            {
                try
                {
                    await publisher.PublishIfGrownAsync(stoppingToken);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    // The next tick tries again; a caller that needs a newer checkpoint publishes one itself.
                    LogPublishFailed(ex);
                }
            }
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping.
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Publishing the usage log's checkpoint failed; the next interval tries again")]
    private partial void LogPublishFailed(Exception exception);
}
