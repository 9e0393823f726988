using System.Threading.Channels;
using MeterAgent.Ledger.Outcomes;
using MeterAgent.Ledger.Usage;
using MeterAgent.Observability;

namespace MeterAgent.Log;

/// <summary>
/// The usage log as a settlement observer: each settled request's closed record is queued and appended in batches, so
/// a request pays a queue write, not a log write. What is queued but not yet appended when the process stops is not
/// lost: the next start's recovery appends every closed record the log lacks.
/// </summary>
internal sealed partial class UsageLogAppender(IUsageLog log, MeterAgentMetrics metrics, ILogger<UsageLogAppender> logger)
    : BackgroundService, ISettlementObserver
{
    // Small enough that one append never holds the shared writer long: the write-ahead opens of new requests queue behind it.
    private const int MaxBatch = 128;

    private readonly Channel<UsageRecord> _queue = Backlog(metrics);

    public ValueTask OnSettledAsync(SettledRequest settled, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(settled);
        var record = settled.Outcome.ToRecord();
        if (settled.Redemption is { } redemption)
        {
            record.ContractId = redemption.ContractId;
            record.ContractVersion = redemption.ContractVersion;
            record.UnitsMicro = redemption.UnitsMicro;
            record.UnitsBasis = redemption.UnitsBasis;
            record.RedeemedMicro = redemption.RedeemedMicro;
            record.OverageMicro = redemption.OverageMicro;
            record.LotIds = redemption.LotIds;
        }

        _queue.Writer.TryWrite(record);
        return ValueTask.CompletedTask;
    }

    private static Channel<UsageRecord> Backlog(MeterAgentMetrics metrics)
    {
        var queue = Channel.CreateUnbounded<UsageRecord>(new UnboundedChannelOptions { SingleReader = true });
        metrics.Gauge("meteragent.log.append_backlog", "{record}", "Closed records queued for the usage log, not yet appended.", () => queue.Reader.Count);
        return queue;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var batch = new List<UsageRecord>(MaxBatch);
        try
        {
            while (await _queue.Reader.WaitToReadAsync(stoppingToken))
            {
                while (batch.Count < MaxBatch && _queue.Reader.TryRead(out var record))
                {
                    batch.Add(record);
                }

                try
                {
                    await log.AppendAsync([.. batch], CancellationToken.None);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    // The records are closed and durable; recovery at the next start appends what this batch could not.
                    LogAppendFailed(batch.Count, ex);
                }

                batch.Clear();
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping: what is still queued is appended by the next start's recovery.
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Appending {Count} closed records to the usage log failed; the next start's recovery appends them")]
    private partial void LogAppendFailed(int count, Exception exception);
}
