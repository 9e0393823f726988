namespace MeterAgent.Log;

/// <summary>
/// Runs a <see cref="StatementPass"/> every second while the log is signed. A pass that fails (the store is busy, the
/// disk is full) is logged and retried by the next: nothing it did is kept unless all of it was stored.
/// </summary>
internal sealed partial class StatementCloser(UsageLogTree tree, StatementPass pass, TimeProvider clock, ILogger<StatementCloser> logger) : BackgroundService
{
    private static readonly TimeSpan Period = TimeSpan.FromSeconds(1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (tree.Signer is not { } signer)
        {
            return; // the log is not signed: no statements
        }

        using var timer = new PeriodicTimer(Period, clock);
        do
        {
            try
            {
                var (size, root) = await tree.HeadAsync(stoppingToken);
                await pass.RunAsync(size, root, signer, stoppingToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                LogPassFailed(ex);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Closing statements failed; the next pass retries")]
    private partial void LogPassFailed(Exception exception);
}
