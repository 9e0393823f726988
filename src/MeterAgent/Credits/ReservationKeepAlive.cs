using System.Collections.Concurrent;
using MeterAgent.Ledger.Credits;
using MeterAgent.Ledger.Outcomes;
using MeterAgent.Observability;
using Microsoft.Extensions.Options;

namespace MeterAgent.Credits;

/// <summary>
/// Keeps the reservations of requests still in flight from expiring: every third of
/// <see cref="CreditsOptions.ReservationTimeout"/> their deadlines move one timeout ahead, in one ledger write for all
/// of them. A request that streams for longer than the timeout keeps the credits it reserved, while a crashed process
/// stops renewing and its reservations expire as before. A reservation is let go when its request settles.
/// </summary>
internal sealed partial class ReservationKeepAlive(
    ICreditLedger ledger, IOptions<CreditsOptions> options, TimeProvider clock, MeterAgentMetrics metrics, ILogger<ReservationKeepAlive> logger)
    : BackgroundService, ISettlementObserver
{
    private readonly ConcurrentDictionary<string, byte> _inFlight = InFlight(metrics);

    public int Count => _inFlight.Count;

    private static ConcurrentDictionary<string, byte> InFlight(MeterAgentMetrics metrics)
    {
        var inFlight = new ConcurrentDictionary<string, byte>(StringComparer.Ordinal);
        metrics.Gauge("meteragent.reservations.pending", "{reservation}", "Reservations held now by requests in flight in this process.", () => inFlight.Count);
        return inFlight;
    }

    public void Hold(string reservationId) => _inFlight.TryAdd(reservationId, 0);

    public ValueTask OnSettledAsync(SettledRequest settled, CancellationToken cancellationToken)
    {
        if (settled.Outcome.Reservation is { } reservation)
        {
            _inFlight.TryRemove(reservation.ReservationId, out _);
        }

        return ValueTask.CompletedTask;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var timeout = options.Value.ReservationTimeout;
        if (!options.Value.Enabled)
        {
            return;
        }

        using var timer = new PeriodicTimer(timeout / 3, clock);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                await RenewAsync(timeout, stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping: settlements still running release their own reservations.
        }
    }

    private async Task RenewAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        if (_inFlight.IsEmpty)
        {
            return;
        }

        try
        {
            var renewed = await ledger.RenewAsync([.. _inFlight.Keys], clock.GetUtcNow() + timeout, cancellationToken);
            LogRenewed(renewed);
        }
        catch (Exception ex) when (ex is not OperationCanceledException and not ObjectDisposedException)
        {
            // The next tick tries again, a third of a timeout before any of them can expire.
            LogRenewFailed(ex);
        }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Renewed {Count} credit reservations of requests in flight")]
    private partial void LogRenewed(int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Renewing the reservations of requests in flight failed; retrying at the next interval")]
    private partial void LogRenewFailed(Exception exception);
}
