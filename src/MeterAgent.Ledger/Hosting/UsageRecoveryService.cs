using MeterAgent.Ledger.Usage;
using Microsoft.Extensions.Hosting;

namespace MeterAgent.Ledger.Hosting;

/// <summary>
/// Closes the records a crashed run left open before the host starts taking requests (hosted services start before
/// the server listens), so every request that reached upstream ends with an explicit status.
/// </summary>
internal sealed class UsageRecoveryService(IUsageStore store) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) => store.RecoverOpenAsync(cancellationToken);

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
