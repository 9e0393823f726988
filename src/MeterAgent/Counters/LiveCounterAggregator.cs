using MeterAgent.Ledger.Counters;
using MeterAgent.Ledger.Outcomes;

namespace MeterAgent.Counters;

/// <summary>
/// Adds each settled request to in-process totals per account, contract and model, and flushes them to the store's live
/// counters every second as one batch with its own id. A batch that fails is retried with the same id (the store adds
/// a batch once), while new requests go into the next one. Only for a store that keeps counters apart from its records
/// (<see cref="IUsageCounters.NeedsFlushing"/>); on the embedded store the records are summed and this does nothing.
/// </summary>
/// <remarks>
/// A process killed between flushes loses up to a second of counter increments, never a record: counters are live
/// figures for the balance API, and the durable records (and the attestation log) remain the source of truth.
/// </remarks>
internal sealed partial class LiveCounterAggregator(IUsageCounters counters, TimeProvider clock, ILogger<LiveCounterAggregator> logger)
    : BackgroundService, ISettlementObserver
{
    internal static readonly TimeSpan FlushPeriod = TimeSpan.FromSeconds(1);

    private readonly Lock _lock = new();

    // Distinct per process, so batch ids never repeat across restarts.
    private readonly string _instance = Guid.NewGuid().ToString("N");
    private Dictionary<UsageCounterKey, UsageTotals> _pending = [];
    private long _batch;

    public ValueTask OnSettledAsync(SettledRequest settled, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(settled);
        if (!counters.NeedsFlushing)
        {
            return ValueTask.CompletedTask;
        }

        var key = UsageCounterKey.Of(settled.Record);
        lock (_lock)
        {
            if (!_pending.TryGetValue(key, out var totals))
            {
                _pending[key] = totals = new UsageTotals();
            }

            totals.Add(settled.Record);
        }

        return ValueTask.CompletedTask;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!counters.NeedsFlushing)
        {
            return;
        }

        using var timer = new PeriodicTimer(FlushPeriod, clock);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                await FlushAsync(stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping: one last flush below.
        }

        using var last = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        try
        {
            await FlushAsync(last.Token);
        }
        catch (OperationCanceledException)
        {
            LogLastFlushGaveUp();
        }
    }

    /// <summary>Takes what is pending as the next batch and adds it, retrying the same batch id until it is added.</summary>
    internal async Task FlushAsync(CancellationToken cancellationToken)
    {
        Dictionary<UsageCounterKey, UsageTotals> batch;
        lock (_lock)
        {
            if (_pending.Count == 0)
            {
                return;
            }

            batch = _pending;
            _pending = [];
        }

        var id = _instance + ":" + (++_batch).ToString(System.Globalization.CultureInfo.InvariantCulture);
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await counters.AddAsync(id, batch, cancellationToken);
                return;
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                LogFlushFailed(id, attempt, ex);
                await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(5000, 100 * attempt)), clock, cancellationToken);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Adding live counter batch {BatchId} failed (attempt {Attempt}); retrying the same batch")]
    private partial void LogFlushFailed(string batchId, int attempt, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The last live counter batch was not added before stopping; the usage records still hold it")]
    private partial void LogLastFlushGaveUp();
}
