using System.Runtime;
using MeterAgent.Metering.Tokenization;

namespace MeterAgent.Hosting;

/// <summary>
/// Loads the reference tokenizer once the host has started (so the first request does not pay for it), then compacts
/// the heap and gives its free pages back to the OS: parsing the tokenizer's rank data leaves tens of megabytes of
/// garbage that would otherwise stay committed for the life of the process.
/// </summary>
internal sealed partial class StartupWarmUp(IHostApplicationLifetime lifetime, ILogger<StartupWarmUp> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        lifetime.ApplicationStarted.Register(() => _ = Task.Run(WarmUp, CancellationToken.None));
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private void WarmUp()
    {
        try
        {
            _ = ReferenceTokenizer.Instance.CountTokens("warm up");
        }
        catch (Exception ex)
        {
            // Readiness reports a tokenizer that does not load; here it only means nothing was warmed.
            LogWarmUpFailed(ex);
            return;
        }

        GCSettings.LargeObjectHeapCompactionMode = GCLargeObjectHeapCompactionMode.CompactOnce;
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Warming the reference tokenizer up at start failed")]
    private partial void LogWarmUpFailed(Exception exception);
}
