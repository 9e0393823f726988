using System.Diagnostics.Metrics;
using MeterAgent.Ledger.Credits;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace MeterAgent.Ledger.Hosting;

/// <summary>
/// Releases reservations whose deadline has passed (a request that crashed, or a replica that died mid-request), once
/// at start so credits a previous run left pending are spendable before traffic, then every
/// <see cref="StoreOptions.ReservationSweepInterval"/>.
/// </summary>
internal sealed partial class ReservationExpiryService(
    ICreditLedger ledger,
    TimeProvider time,
    IOptions<StoreOptions> options,
    ILogger<ReservationExpiryService> logger,
    IMeterFactory? meterFactory = null) : BackgroundService
{
    // On the host's MeterAgent meter: the same meteragent_reservations_total{outcome} the host counts the other steps in.
    private readonly Counter<long>? _expiredCount = meterFactory?.Create("MeterAgent")
        .CreateCounter<long>("meteragent.reservations", "{reservation}", "Credit reservations by lifecycle step.");

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        await SweepAsync(cancellationToken);
        await base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.ReservationSweepInterval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                await SweepAsync(stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping.
        }
    }

    private async Task SweepAsync(CancellationToken cancellationToken)
    {
        try
        {
            var expired = await ledger.ExpireAsync(time.GetUtcNow(), cancellationToken);
            if (expired > 0)
            {
                _expiredCount?.Add(expired, new KeyValuePair<string, object?>("outcome", "expired"));
                LogExpired(expired);
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException and not ObjectDisposedException)
        {
            // A failed sweep only delays the release; the next tick tries again.
            LogSweepFailed(ex);
        }
    }

    [LoggerMessage(EventId = 1130, Level = LogLevel.Information, Message = "Released {Count} expired credit reservations")]
    private partial void LogExpired(int count);

    [LoggerMessage(EventId = 1131, Level = LogLevel.Warning, Message = "Reservation expiry sweep failed; retrying at the next interval")]
    private partial void LogSweepFailed(Exception exception);
}
