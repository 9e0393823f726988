namespace MeterAgent.Log;

/// <summary>
/// Runs a <see cref="StatementPass"/> every second while the log is signed, against published checkpoints: a statement
/// names a tree size the clearing house can fetch a signed (and witnessed) checkpoint of. A pass that fails (the store
/// is busy, the disk is full) is logged and retried by the next: nothing it did is kept unless all of it was stored.
/// </summary>
internal sealed partial class StatementCloser(
    CheckpointPublisher publisher, UsageLogTree tree, LogKeys keys, StatementPass pass, TimeProvider clock, ILogger<StatementCloser> logger,
    ISharedCheckpoints? shared = null) : BackgroundService
{
    private static readonly TimeSpan Period = TimeSpan.FromSeconds(1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (keys.Signer is not { } signer)
        {
            return; // the log is not signed: no statements
        }

        using var timer = new PeriodicTimer(Period, clock);
        do
        {
            try
            {
                // Distributed mode: only the replica holding the log lease closes statements.
                if (shared?.CanPublish ?? true)
                {
                    await pass.RunAsync(HeadAsync, signer, stoppingToken);
                }
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                LogPassFailed(ex);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    /// <summary>A fresh checkpoint over everything appended so far when an interval closes; else the current one.</summary>
    private async Task<(long Size, byte[] Root)> HeadAsync(bool fresh, CancellationToken cancellationToken)
    {
        var checkpoint = fresh
            ? await publisher.PublishAsync(await tree.CatchUpAsync(cancellationToken), cancellationToken)
            : await publisher.LatestAsync(cancellationToken);
        return (checkpoint.Size, checkpoint.RootHash);
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Closing statements failed; the next pass retries")]
    private partial void LogPassFailed(Exception exception);
}
