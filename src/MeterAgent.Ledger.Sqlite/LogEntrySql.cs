using MeterAgent.Attestation.Entries;
using MeterAgent.Ledger.Usage;

namespace MeterAgent.Ledger.Sqlite;

/// <summary>The usage log's rows: a closed record's entry, appended at the next index in the write that closes it.</summary>
internal static class LogEntrySql
{
    /// <summary>Idempotent by usage id: a record closed again (a retry) keeps its first place and bytes.</summary>
    public const string Append = """
        INSERT INTO log_entries (idx, usage_id, entry, contract_id, started_at)
        VALUES ((SELECT COALESCE(MAX(idx), -1) + 1 FROM log_entries), @usage_id, @entry, @contract_id, @started_at)
        ON CONFLICT (usage_id) DO NOTHING;
        """;

    public const string Count = "SELECT COUNT(*) FROM log_entries;";

    public const string ReadFrom = "SELECT idx, entry FROM log_entries WHERE idx >= @from ORDER BY idx LIMIT @limit;";

    /// <summary>By the record's id: usage_id is UNIQUE, so this is one index lookup.</summary>
    public const string FindByUsageId = "SELECT idx, entry FROM log_entries WHERE usage_id = @usage_id;";

    /// <summary>Closed records with no entry yet: records closed before the log existed, or by recovery.</summary>
    public static readonly string SelectUnlogged =
        $"SELECT {UsageRecordSql.SelectColumns} FROM usage_records WHERE status <> '{UsageStatusNames.Open}' "
        + "AND id NOT IN (SELECT usage_id FROM log_entries) ORDER BY ended_at, id;";

    /// <summary>Appends the entry of a record that is closed (an open one has none yet).</summary>
    public static void AppendFor(SqliteWriteContext context, UsageRecord record)
    {
        if (record.Status == UsageStatus.Open)
        {
            return;
        }

        var append = context.Raw(Append);
        append.Bind("@usage_id", record.Id);
        // Bound from the encoder's own buffer: SQLite copies the bytes, so no array per close.
        UsageEntryEncoding.Encode(ToEntry(record), append, static (entry, statement) => statement.Bind("@entry", entry));
        append.Bind("@contract_id", record.ContractId);
        append.Bind("@started_at", SqliteTime.ToUnixMicroseconds(record.StartedAt));
        append.Execute();
    }

    /// <summary>What the log says of a closed record (docs/attestation.md, "Entries").</summary>
    public static UsageEntry ToEntry(UsageRecord record) => new()
    {
        UsageId = record.Id,
        AccountId = record.AccountId,
        Surface = record.Surface,
        RequestedModel = record.RequestedModel,
        ServedModel = record.ServedModel,
        StartedAtMicros = SqliteTime.ToUnixMicroseconds(record.StartedAt),
        EndedAtMicros = SqliteTime.ToUnixMicroseconds(record.EndedAt ?? record.StartedAt),
        Status = UsageStatusNames.ToName(record.Status),
        NativeInputTokens = record.NativeInputTokens,
        NativeCachedInputTokens = record.NativeCachedInputTokens,
        NativeCacheWriteTokens = record.NativeCacheWriteTokens,
        NativeOutputTokens = record.NativeOutputTokens,
        NativeReasoningTokens = record.NativeReasoningTokens,
        ReferenceInputTokens = record.ReferenceInputTokens,
        ReferenceOutputTokens = record.ReferenceOutputTokens,
        ReferenceTokenizer = record.ReferenceTokenizer,
        ContractId = record.ContractId,
        ContractVersion = record.ContractVersion,
        UnitsMicro = record.UnitsMicro,
        RedeemedMicro = record.RedeemedMicro ?? 0,
        OverageMicro = record.OverageMicro ?? 0,
        UnitsBasis = record.UnitsBasis,
        Flags = record.Flags,
        NonTextInput = record.NonTextInput,
    };
}
