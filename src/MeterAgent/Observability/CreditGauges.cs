using System.Diagnostics.Metrics;
using MeterAgent.Contracts.Specs;
using MeterAgent.Ledger.Credits;
using Microsoft.Extensions.Options;

namespace MeterAgent.Observability;

/// <summary>
/// Credits available and pending per contract, read from the ledger every <see cref="MetricsOptions.LedgerPollInterval"/>
/// and served from memory at each scrape: a scrape never waits on the store, and the query runs off the request path.
/// Every contract of the catalog is reported, at 0 when it has no lots, so "credits near exhaustion" sees it reach 0.
/// </summary>
internal sealed partial class CreditGauges : BackgroundService
{
    private const double MicroPerUnit = 1_000_000d;

    private readonly ICreditLedger _ledger;
    private readonly string[] _contracts;
    private readonly TimeSpan _interval;
    private readonly TimeProvider _clock;
    private readonly ILogger<CreditGauges> _logger;
    private volatile Measurement<double>[] _available = [];
    private volatile Measurement<double>[] _pending = [];

    public CreditGauges(
        ICreditLedger ledger, ContractCatalog catalog, MeterAgentMetrics metrics, IOptions<MetricsOptions> options,
        TimeProvider clock, ILogger<CreditGauges> logger)
    {
        _ledger = ledger;
        _contracts = [.. catalog.All.Select(spec => spec.Id).Distinct(StringComparer.Ordinal)];
        _interval = options.Value.LedgerPollInterval;
        _clock = clock;
        _logger = logger;
        metrics.Meter.CreateObservableGauge("meteragent.credit.units.available", () => _available, "{unit}",
            "Units available in lots whose window is open, per contract.");
        metrics.Meter.CreateObservableGauge("meteragent.credit.units.pending", () => _pending, "{unit}",
            "Units held by pending reservations, per contract.");
    }

    /// <summary>Reads the ledger once (the service does this every interval; tests call it to skip the wait).</summary>
    public async Task PollAsync(CancellationToken cancellationToken)
    {
        var balances = await _ledger.GetContractBalancesAsync(_clock.GetUtcNow(), cancellationToken);
        var byContract = balances.ToDictionary(balance => balance.ContractId, StringComparer.Ordinal);
        var contracts = _contracts.Union(byContract.Keys, StringComparer.Ordinal).ToArray();
        var available = new Measurement<double>[contracts.Length];
        var pending = new Measurement<double>[contracts.Length];
        for (var i = 0; i < contracts.Length; i++)
        {
            var balance = byContract.GetValueOrDefault(contracts[i]);
            var tag = new KeyValuePair<string, object?>("contract", contracts[i]);
            available[i] = new Measurement<double>((balance?.AvailableMicro ?? 0) / MicroPerUnit, tag);
            pending[i] = new Measurement<double>((balance?.PendingMicro ?? 0) / MicroPerUnit, tag);
        }

        _available = available;
        _pending = pending;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (_contracts.Length == 0)
        {
            // Credits are off (or no contract is loaded): there is nothing to report.
            return;
        }

        using var timer = new PeriodicTimer(_interval, _clock);
        try
        {
            do
            {
                try
                {
                    await PollAsync(stoppingToken);
                }
                catch (Exception ex) when (ex is not OperationCanceledException and not ObjectDisposedException)
                {
                    // The gauges keep their last values; the next tick tries again.
                    LogPollFailed(ex);
                }
            }
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping.
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Reading credit balances for the metrics failed; retrying at the next interval")]
    private partial void LogPollFailed(Exception exception);
}
