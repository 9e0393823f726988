using System.Runtime.CompilerServices;
using System.Threading.Channels;
using MeterAgent.Ledger.Outcomes;
using MeterAgent.Ledger.Usage;
using MeterAgent.Observability;

namespace MeterAgent.Log;

/// <summary>
/// The usage log as a settlement observer: each settled request's closed record is queued and appended in batches, so
/// a request pays a queue write, not a log write. A stop appends what is queued before the process exits (the
/// settlements have ended by then: their tracker stops first); what a crash leaves queued is not lost either: the next
/// start's recovery appends every closed record the log lacks.
/// </summary>
internal sealed partial class UsageLogAppender(IUsageLog log, MeterAgentMetrics metrics, ILogger<UsageLogAppender> logger)
    : BackgroundService, ISettlementObserver
{
    // Small enough that one append never holds the shared writer long: the write-ahead opens of new requests queue behind it.
    private const int MaxBatch = 128;

    private readonly Channel<UsageRecord> _queue = Channel.CreateUnbounded<UsageRecord>(new UnboundedChannelOptions { SingleReader = true });

    // The channel of a single reader cannot count its items: those queued are counted here, for the metrics.
    private readonly StrongBox<int> _backlog = Backlog(metrics);

    public ValueTask OnSettledAsync(SettledRequest settled, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(settled);
        // The record the pipeline closed, redemption and all: the entry is made from exactly what was written.
        var record = settled.Record;
        if (_queue.Writer.TryWrite(record))
        {
            Interlocked.Increment(ref _backlog.Value);
        }

        return ValueTask.CompletedTask;
    }

    private static StrongBox<int> Backlog(MeterAgentMetrics metrics)
    {
        var backlog = new StrongBox<int>();
        metrics.Gauge("meteragent.log.append_backlog", "{record}", "Closed records queued for the usage log, not yet appended.", () => Volatile.Read(ref backlog.Value));
        return backlog;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var batch = new List<UsageRecord>(MaxBatch);
        try
        {
            while (await _queue.Reader.WaitToReadAsync(stoppingToken))
            {
                await AppendBatchAsync(batch);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping: what is still queued is appended below (the host's shutdown timeout bounds it).
        }

        while (_queue.Reader.TryPeek(out _))
        {
            await AppendBatchAsync(batch);
        }
    }

    private async Task AppendBatchAsync(List<UsageRecord> batch)
    {
        while (batch.Count < MaxBatch && _queue.Reader.TryRead(out var record))
        {
            batch.Add(record);
        }

        // Still a backlog until appended: the gauge falls when the append is done.

        try
        {
            await log.AppendAsync([.. batch], CancellationToken.None);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // The records are closed and durable; recovery at the next start appends what this batch could not.
            LogAppendFailed(batch.Count, ex);
        }

        Interlocked.Add(ref _backlog.Value, -batch.Count);
        batch.Clear();
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Appending {Count} closed records to the usage log failed; the next start's recovery appends them")]
    private partial void LogAppendFailed(int count, Exception exception);
}
