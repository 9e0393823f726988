using MeterAgent.Ledger.Usage;

namespace MeterAgent.Ledger.Sqlite;

/// <summary>One queued write for the group-commit writer, completed once the transaction holding it commits.</summary>
internal sealed class UsageWrite(UsageWriteKind kind, UsageRecord? record)
{
    public UsageWriteKind Kind { get; } = kind;

    public UsageRecord? Record { get; } = record;

    /// <summary>Rows changed, known only once committed (recovery reports how many it closed).</summary>
    public int Result { get; set; }

    // Asynchronous continuations: callers must never run on, and stall, the single writer.
    public TaskCompletionSource<int> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
}
