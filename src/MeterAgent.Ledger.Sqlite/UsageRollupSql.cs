namespace MeterAgent.Ledger.Sqlite;

/// <summary>
/// The usage rollups (schema step 10): closed records' totals per account, UTC day, contract and model
/// (<c>usage_rollup</c>) and per day, contract and model over all accounts (<c>usage_rollup_day</c>), folded in from
/// <c>usage_records</c> in rowid order up to <c>usage_rollup_state.folded</c>. Rows are only ever inserted, by the one
/// writer, so rowids grow in commit order and a snapshot holds every row up to its largest rowid: the rows folded and
/// those past the watermark never overlap and never miss one. A read sums the rollup and the rows past the watermark
/// in one statement (one snapshot), so it equals the plain SUM over the records at that instant.
/// </summary>
internal static class UsageRollupSql
{
    public const string Completed = "completed";

    public const long MicrosecondsPerDay = 86_400_000_000;

    /// <summary>The summed columns of the rollups, in <see cref="Counters.UsageTotals.FieldNames"/> order after the count.</summary>
    public static readonly string[] Sums =
    [
        "reference_input_tokens", "reference_output_tokens", "native_input_tokens", "native_cached_input_tokens",
        "native_cache_write_tokens", "native_output_tokens", "native_reasoning_tokens", "units_micro", "redeemed_micro", "overage_micro",
    ];

    private static readonly string Columns = "requests, " + string.Join(", ", Sums);

    private static readonly string Accumulate =
        "requests = requests + excluded.requests, " + string.Join(", ", Sums.Select(c => $"{c} = {c} + excluded.{c}"));

    /// <summary>A record's own values for the sums (nullable ones as 0), with a sign; <paramref name="row"/> is a prefix like <c>old.</c>.</summary>
    private static string Values(string row, string sign) =>
        $"{sign}1, " + string.Join(", ", Sums.Select(c => $"{sign}IFNULL({row}{c}, 0)"));

    /// <summary>The same sums over a group of records (what the plain queries compute).</summary>
    public static readonly string GroupSums =
        "COUNT(*), " + string.Join(", ", Sums.Select(c => $"IFNULL(SUM({c}), 0)"));

    /// <summary>Sums of the rollup's own columns.</summary>
    public static readonly string RollupSums =
        "SUM(requests), " + string.Join(", ", Sums.Select(c => $"SUM({c})"));

    public static readonly string RollupColumns = Columns;

    /// <summary>A record's row for a union with rollup rows: 1 request and its values.</summary>
    public static readonly string RecordValues = Values(string.Empty, string.Empty);

    public const string Day = "started_at / 86400000000";

    public const string Model = "COALESCE(served_model, requested_model, '')";

    public const string Contract = "COALESCE(contract_id, '')";

    /// <summary>
    /// The connection's own table <see cref="Fold"/> groups the rows in (created once per connection, emptied at the
    /// start of each fold). Run before <see cref="Fold"/>'s statements are prepared: they name it.
    /// </summary>
    public static readonly string FoldTable = $"""
        CREATE TEMP TABLE IF NOT EXISTS rollup_fold (
            account_id TEXT NOT NULL, day INTEGER NOT NULL, contract_id TEXT NOT NULL, model TEXT NOT NULL,
            closed INTEGER NOT NULL, min_id TEXT NOT NULL, max_id TEXT NOT NULL, {Columns});
        """;

    /// <summary>
    /// Folds the rows past the watermark, up to rowid <paramref name="upTo"/> (an SQL expression), into the id ranges
    /// and the rollups, and moves the watermark there: what the fold service and a store built in bulk run.
    /// </summary>
    /// <remarks>
    /// One pass over the rows: they are grouped once, by every key the four tables use and whether the row is closed,
    /// into a small table of the connection's own (<c>temp.rollup_fold</c>, a row per group, a few per fold), and the id
    /// ranges (every row) and the rollups (closed rows) are summed from it. The same as <see cref="FoldIdRanges"/> then
    /// <see cref="FoldRollups"/>, which each pass over the rows (four passes, four sorts of every row): a fold of 200
    /// rows took half the time (docs/benchmarks.md), and the writer is held for it. The connection runs
    /// <see cref="FoldTable"/> first.
    /// </remarks>
    public static string Fold(string upTo) => $"""
        DELETE FROM temp.rollup_fold;

        INSERT INTO temp.rollup_fold (account_id, day, contract_id, model, closed, min_id, max_id, {Columns})
        SELECT account_id, {Day}, {Contract}, {Model}, status <> '{UsageStatusNames.Open}', MIN(id), MAX(id), {GroupSums}
        FROM usage_records
        WHERE rowid > (SELECT folded FROM usage_rollup_state) AND rowid <= {upTo}
        GROUP BY 1, 2, 3, 4, 5;

        INSERT INTO usage_id_range (account_id, day, min_id, max_id)
        SELECT account_id, day, MIN(min_id), MAX(max_id) FROM temp.rollup_fold WHERE true GROUP BY 1, 2
        ON CONFLICT (account_id, day) DO UPDATE SET min_id = MIN(min_id, excluded.min_id), max_id = MAX(max_id, excluded.max_id);

        INSERT INTO usage_id_range_day (day, min_id, max_id)
        SELECT day, MIN(min_id), MAX(max_id) FROM temp.rollup_fold WHERE true GROUP BY 1
        ON CONFLICT (day) DO UPDATE SET min_id = MIN(min_id, excluded.min_id), max_id = MAX(max_id, excluded.max_id);

        INSERT INTO usage_rollup (account_id, day, contract_id, model, {Columns})
        SELECT account_id, day, contract_id, model, {RollupSums} FROM temp.rollup_fold WHERE closed GROUP BY 1, 2, 3, 4
        ON CONFLICT (account_id, day, contract_id, model) DO UPDATE SET {Accumulate};

        INSERT INTO usage_rollup_day (day, contract_id, model, {Columns})
        SELECT day, contract_id, model, {RollupSums} FROM temp.rollup_fold WHERE closed GROUP BY 1, 2, 3
        ON CONFLICT (day, contract_id, model) DO UPDATE SET {Accumulate};

        UPDATE usage_rollup_state SET folded = MAX(folded, IFNULL({upTo}, 0));
        """;

    /// <summary>
    /// Folds the closed rows past the watermark, up to rowid <paramref name="upTo"/> (an SQL expression), into both
    /// rollups and moves the watermark there (schema step 10's fold, before the id ranges existed). <c>+status</c>: the
    /// rowid range is the scan, not a status index.
    /// </summary>
    public static string FoldRollups(string upTo) => $"""
        INSERT INTO usage_rollup (account_id, day, contract_id, model, {Columns})
        SELECT account_id, {Day}, {Contract}, {Model}, {GroupSums}
        FROM usage_records
        WHERE rowid > (SELECT folded FROM usage_rollup_state) AND rowid <= {upTo} AND +status <> '{UsageStatusNames.Open}'
        GROUP BY 1, 2, 3, 4
        ON CONFLICT (account_id, day, contract_id, model) DO UPDATE SET {Accumulate};

        INSERT INTO usage_rollup_day (day, contract_id, model, {Columns})
        SELECT {Day}, {Contract}, {Model}, {GroupSums}
        FROM usage_records
        WHERE rowid > (SELECT folded FROM usage_rollup_state) AND rowid <= {upTo} AND +status <> '{UsageStatusNames.Open}'
        GROUP BY 1, 2, 3
        ON CONFLICT (day, contract_id, model) DO UPDATE SET {Accumulate};

        UPDATE usage_rollup_state SET folded = MAX(folded, IFNULL({upTo}, 0));
        """;

    /// <summary>
    /// Schema step 11: the range of record ids started on each UTC day, per account (<c>usage_id_range</c>) and over all
    /// accounts (<c>usage_id_range_day</c>). A record's id and start never change, so the ranges only widen, and any
    /// record of a day has its id inside its day's range: a time bound on the record pages becomes an exact id bound
    /// (every record started before T has an id at most the largest id of the days up to T's), so a page with a
    /// <c>to</c> long ago starts its newest-first walk there instead of skipping every newer record.
    /// </summary>
    public const string IdRangeTables = """
        CREATE TABLE usage_id_range (
            account_id TEXT NOT NULL,
            day        INTEGER NOT NULL,
            min_id     TEXT NOT NULL,
            max_id     TEXT NOT NULL,
            PRIMARY KEY (account_id, day)
        ) STRICT, WITHOUT ROWID;

        CREATE TABLE usage_id_range_day (
            day    INTEGER NOT NULL PRIMARY KEY,
            min_id TEXT NOT NULL,
            max_id TEXT NOT NULL
        ) STRICT, WITHOUT ROWID;
        """;

    /// <summary>
    /// Widens the id ranges with the rows in (<paramref name="from"/>, <paramref name="upTo"/>] by rowid (SQL
    /// expressions), open rows too (the pages list them). MIN and MAX: folding a row twice changes nothing.
    /// </summary>
    public static string FoldIdRanges(string from, string upTo) => $"""
        INSERT INTO usage_id_range (account_id, day, min_id, max_id)
        SELECT account_id, {Day}, MIN(id), MAX(id) FROM usage_records NOT INDEXED WHERE rowid > {from} AND rowid <= {upTo} GROUP BY 1, 2
        ON CONFLICT (account_id, day) DO UPDATE SET min_id = MIN(min_id, excluded.min_id), max_id = MAX(max_id, excluded.max_id);

        INSERT INTO usage_id_range_day (day, min_id, max_id)
        SELECT {Day}, MIN(id), MAX(id) FROM usage_records NOT INDEXED WHERE rowid > {from} AND rowid <= {upTo} GROUP BY 1
        ON CONFLICT (day) DO UPDATE SET min_id = MIN(min_id, excluded.min_id), max_id = MAX(max_id, excluded.max_id);
        """;

    /// <summary>The next watermark for a fold of at most @batch rows: the rowid that many rows on (or the last).</summary>
    public const string NextWatermark = """
        SELECT (SELECT folded FROM usage_rollup_state),
               (SELECT MAX(rowid) FROM (SELECT rowid FROM usage_records WHERE rowid > (SELECT folded FROM usage_rollup_state) ORDER BY rowid LIMIT @batch));
        """;

    private static string Move(string table, string keyColumns, string keyValues, string conflict, string row, string sign) => $"""
          INSERT INTO {table} ({keyColumns}, {Columns})
          SELECT {keyValues}, {Values(row, sign)} WHERE {row}status <> '{UsageStatusNames.Open}'
          ON CONFLICT ({conflict}) DO UPDATE SET {Accumulate};
        """;

    private static string MoveBoth(string row, string sign) =>
        Move(
            "usage_rollup", "account_id, day, contract_id, model",
            $"{row}account_id, {row}started_at / {MicrosecondsPerDay}, COALESCE({row}contract_id, ''), COALESCE({row}served_model, {row}requested_model, '')",
            "account_id, day, contract_id, model", row, sign)
        + Move(
            "usage_rollup_day", "day, contract_id, model",
            $"{row}started_at / {MicrosecondsPerDay}, COALESCE({row}contract_id, ''), COALESCE({row}served_model, {row}requested_model, '')",
            "day, contract_id, model", row, sign);

    /// <summary>
    /// A folded row that changes moves in the rollups: its old totals out (if it was closed), its new in (if it is). Only
    /// an update fires it, never the insert a close normally is; rows past the watermark are left to the fold.
    /// </summary>
    public static readonly string UpdateTrigger = $"""
        CREATE TRIGGER usage_rollup_moved AFTER UPDATE ON usage_records
        WHEN old.rowid <= (SELECT folded FROM usage_rollup_state)
        BEGIN
        {MoveBoth("old.", "-")}
        {MoveBoth("new.", "")}
        END;
        """;
}
