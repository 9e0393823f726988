using MeterAgent.Ledger.Usage;
using Microsoft.Data.Sqlite;

namespace MeterAgent.Ledger.Sqlite;

/// <summary>How a <see cref="UsageRecord"/> maps to the <c>usage_records</c> row: one column per field, in this order.</summary>
internal static class UsageRecordSql
{
    public static readonly string[] Columns =
    [
        "id", "account_id", "key_id", "surface", "route_id", "cluster_id", "requested_model", "served_model", "stream",
        "started_at", "first_token_at", "ended_at", "status", "http_status", "error", "native_reported",
        "native_input_tokens", "native_cached_input_tokens", "native_cache_write_tokens", "native_output_tokens",
        "native_reasoning_tokens", "reference_input_tokens", "reference_output_tokens", "quality", "non_text_input",
        "reference_tokenizer", "contract_id", "contract_version", "units_micro", "redeemed_micro", "overage_micro", "lot_ids",
        "units_basis", "flags",
    ];

    /// <summary>One parameter per column, in column order.</summary>
    public static readonly string[] ParameterNames = [.. Columns.Select(c => "@" + c)];

    // Identity fields are init-only on the record: a close never moves a record to another account or start time.
    private static readonly HashSet<string> Immutable = new(StringComparer.Ordinal) { "id", "account_id", "key_id", "surface", "started_at" };

    public static readonly string SelectColumns = string.Join(", ", Columns);

    private static readonly string InsertValues =
        $"INSERT INTO usage_records ({SelectColumns}) VALUES ({string.Join(", ", ParameterNames)})";

    /// <summary>
    /// A repeated open (a retry) leaves the row as it is: it must neither fail nor reopen a record already closed.
    /// </summary>
    public static readonly string Open = InsertValues + " ON CONFLICT (id) DO NOTHING;";

    /// <summary>The final state wins, whether or not the record was opened first.</summary>
    public static readonly string Close =
        InsertValues + " ON CONFLICT (id) DO UPDATE SET "
        + string.Join(", ", Columns.Where(c => !Immutable.Contains(c)).Select(c => $"{c} = excluded.{c}")) + ";";

    /// <summary>Binds the record by position (column order) for <see cref="Open"/> or <see cref="Close"/>.</summary>
    public static void Bind(RawStatement s, UsageRecord record, UsageStatus status)
    {
        s.Bind(1, record.Id);
        s.Bind(2, record.AccountId);
        s.Bind(3, record.KeyId);
        s.Bind(4, record.Surface);
        s.Bind(5, record.RouteId);
        s.Bind(6, record.ClusterId);
        s.Bind(7, record.RequestedModel);
        s.Bind(8, record.ServedModel);
        s.Bind(9, record.Stream ? 1L : 0L);
        s.Bind(10, SqliteTime.ToUnixMicroseconds(record.StartedAt));
        s.Bind(11, record.FirstTokenAt is { } firstToken ? SqliteTime.ToUnixMicroseconds(firstToken) : null);
        s.Bind(12, record.EndedAt is { } ended ? SqliteTime.ToUnixMicroseconds(ended) : null);
        s.Bind(13, UsageStatusNames.ToName(status));
        s.Bind(14, record.HttpStatus);
        s.Bind(15, record.Error);
        s.Bind(16, record.NativeReported ? 1L : 0L);
        s.Bind(17, record.NativeInputTokens);
        s.Bind(18, record.NativeCachedInputTokens);
        s.Bind(19, record.NativeCacheWriteTokens);
        s.Bind(20, record.NativeOutputTokens);
        s.Bind(21, record.NativeReasoningTokens);
        s.Bind(22, record.ReferenceInputTokens);
        s.Bind(23, record.ReferenceOutputTokens);
        s.Bind(24, record.Quality);
        s.Bind(25, record.NonTextInput ? 1L : 0L);
        s.Bind(26, record.ReferenceTokenizer);
        s.Bind(27, record.ContractId);
        s.Bind(28, record.ContractVersion);
        s.Bind(29, record.UnitsMicro);
        s.Bind(30, record.RedeemedMicro);
        s.Bind(31, record.OverageMicro);
        s.Bind(32, LotIdsJson.Write(record.LotIds));
        s.Bind(33, record.UnitsBasis);
        s.Bind(34, record.Flags);
    }

    /// <summary>Reads a row selected with <see cref="SelectColumns"/>.</summary>
    public static UsageRecord Read(SqliteDataReader r) => new()
    {
        Id = r.GetString(0),
        AccountId = r.GetString(1),
        KeyId = r.GetString(2),
        Surface = r.GetString(3),
        RouteId = NullableString(r, 4),
        ClusterId = NullableString(r, 5),
        RequestedModel = NullableString(r, 6),
        ServedModel = NullableString(r, 7),
        Stream = r.GetInt64(8) != 0,
        StartedAt = SqliteTime.FromUnixMicroseconds(r.GetInt64(9)),
        FirstTokenAt = NullableTime(r, 10),
        EndedAt = NullableTime(r, 11),
        Status = UsageStatusNames.FromName(r.GetString(12)),
        HttpStatus = r.IsDBNull(13) ? null : r.GetInt32(13),
        Error = NullableString(r, 14),
        NativeReported = r.GetInt64(15) != 0,
        NativeInputTokens = NullableLong(r, 16),
        NativeCachedInputTokens = NullableLong(r, 17),
        NativeCacheWriteTokens = NullableLong(r, 18),
        NativeOutputTokens = NullableLong(r, 19),
        NativeReasoningTokens = NullableLong(r, 20),
        ReferenceInputTokens = r.GetInt64(21),
        ReferenceOutputTokens = r.GetInt64(22),
        Quality = r.GetString(23),
        NonTextInput = r.GetInt64(24) != 0,
        ReferenceTokenizer = NullableString(r, 25),
        ContractId = NullableString(r, 26),
        ContractVersion = r.IsDBNull(27) ? null : r.GetInt32(27),
        UnitsMicro = NullableLong(r, 28),
        RedeemedMicro = NullableLong(r, 29),
        OverageMicro = NullableLong(r, 30),
        LotIds = LotIdsJson.Read(r.GetString(31)),
        UnitsBasis = NullableString(r, 32),
        Flags = r.GetString(33),
    };

    private static string? NullableString(SqliteDataReader r, int ordinal) => r.IsDBNull(ordinal) ? null : r.GetString(ordinal);

    private static long? NullableLong(SqliteDataReader r, int ordinal) => r.IsDBNull(ordinal) ? null : r.GetInt64(ordinal);

    private static DateTimeOffset? NullableTime(SqliteDataReader r, int ordinal) =>
        r.IsDBNull(ordinal) ? null : SqliteTime.FromUnixMicroseconds(r.GetInt64(ordinal));
}
