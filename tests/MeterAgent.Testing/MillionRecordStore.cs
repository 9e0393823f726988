using System.Diagnostics;
using MeterAgent.Attestation.Entries;
using MeterAgent.Ledger.Sqlite;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace MeterAgent.Testing;

/// <summary>How seeded records are spread: all in one account, or over many accounts.</summary>
/// <param name="Accounts">how many accounts share the records (round robin)</param>
/// <param name="Models">how many common models (a rare one is added on top)</param>
/// <param name="Days">the records' start times are spread evenly over this many days, ending now</param>
public sealed record SeedShape(int Accounts, int Models, int Days)
{
    /// <summary>Every record in one account (a big enterprise's console), 5 models over 90 days.</summary>
    public static SeedShape OneAccount { get; } = new(1, 5, 90);

    /// <summary>1,000 accounts, 5 models, 90 days (the operator's console).</summary>
    public static SeedShape Spread { get; } = new(1000, 5, 90);
}

/// <summary>What a seeded store holds, for the queries run against it.</summary>
/// <param name="Path">the database file</param>
/// <param name="Records">how many closed records</param>
/// <param name="AccountIds">every account, the first being the busiest (all accounts are equally busy under round robin)</param>
/// <param name="Models">the common models, each served as a dated variant of itself</param>
/// <param name="RareModel">a model about 1 record in 10,000 asks for</param>
/// <param name="From">the earliest start time</param>
/// <param name="To">just after the latest start time</param>
/// <param name="Elapsed">how long seeding took</param>
public sealed record SeededStore(
    string Path, int Records, IReadOnlyList<string> AccountIds, IReadOnlyList<string> Models, string RareModel,
    DateTimeOffset From, DateTimeOffset To, TimeSpan Elapsed);

/// <summary>
/// A store file with N realistic closed usage records, written fast: the schema is the real one (created and migrated
/// by <see cref="SqliteDatabase"/>), the rows go in as one transaction of prepared inserts, each record with its usage
/// log entry (so an agent started on the file finds nothing to recover or append), one credit lot and one key per
/// account, and the usage rollups folded up to the last record. Statuses are mostly completed with a few of each failure (upstream_failed 1 in 1,000, rejected 1 in
/// 10,000); ids are UUIDv7 of the start time, inserted oldest first as the proxy closes them. Deterministic by seed.
/// </summary>
public static class MillionRecordStore
{
    public const string RareModel = "rare-model-x";

    public static SeededStore Create(string path, int records, SeedShape shape, int seed = 7)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(records);
        ArgumentOutOfRangeException.ThrowIfLessThan(shape.Accounts, 1, nameof(shape));
        ArgumentOutOfRangeException.ThrowIfLessThan(shape.Models, 1, nameof(shape));
        var started = Stopwatch.StartNew();
        var to = new DateTimeOffset(DateTime.UtcNow.Date, TimeSpan.Zero).AddDays(1);
        var from = to.AddDays(-shape.Days);
        var models = Enumerable.Range(0, shape.Models).Select(i => $"model-{i}").ToArray();
        var accounts = Enumerable.Range(0, shape.Accounts).Select(i => $"acct_{i:x16}").ToArray();

        // The schema exactly as the agent creates it.
        using (var database = new SqliteDatabase(Options.Create(new SqliteStoreOptions { Path = path }), NullLogger<SqliteDatabase>.Instance))
        {
            using var connection = database.OpenConnection();
            using (var pragma = connection.CreateCommand())
            {
                // One bulk load into a new file: a crash mid-seed just means seeding again.
                pragma.CommandText = "PRAGMA synchronous = OFF; PRAGMA cache_size = -200000;";
                pragma.ExecuteNonQuery();
            }

            using var transaction = connection.BeginTransaction();
            SeedAccounts(connection, transaction, accounts, from);
            SeedRecords(connection, transaction, records, accounts, models, from, to, new Random(seed));

            // Fold them into the usage rollups, as the agent's rollup service would have by now.
            using (var fold = connection.CreateCommand())
            {
                fold.Transaction = transaction;
                fold.CommandText = UsageRollupSql.FoldTable;
                fold.ExecuteNonQuery();
                fold.CommandText = UsageRollupSql.Fold("(SELECT MAX(rowid) FROM usage_records)");
                fold.ExecuteNonQuery();
            }

            transaction.Commit();
            using var checkpoint = connection.CreateCommand();
            checkpoint.CommandText = "PRAGMA wal_checkpoint(TRUNCATE);";
            checkpoint.ExecuteNonQuery();
        }

        return new SeededStore(path, records, accounts, models, RareModel, from, to, started.Elapsed);
    }

    /// <summary>
    /// A seeded store for this shape and size, made once and kept in the temp folder for the next run
    /// (<c>meteragent-console-{name}-{records}-v{schema}.db</c>: the name carries the schema version, so a new step
    /// seeds afresh). A reused file's time span is read from its records (not its modification time: an agent or a
    /// benchmark that opened it since may have touched it on another day).
    /// </summary>
    /// <param name="name">the shape's name in the file name (the console benchmarks use "one-account" and "spread")</param>
    /// <param name="records">how many records</param>
    /// <param name="shape">how they are spread</param>
    public static SeededStore SeedOrReuse(string name, int records, SeedShape shape)
    {
        ArgumentNullException.ThrowIfNull(shape);
        var path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"meteragent-console-{name}-{records}-v{SqliteSchema.CurrentVersion}.db");
        if (File.Exists(path))
        {
            return Reopen(path, records, shape);
        }

        var partial = path + ".partial";
        foreach (var leftover in new[] { partial, partial + "-wal", partial + "-shm" })
        {
            File.Delete(leftover);
        }

        var seeded = Create(partial, records, shape);
        File.Delete(partial + "-wal");
        File.Delete(partial + "-shm");
        File.Move(partial, path);
        return seeded with { Path = path };
    }

    private static SeededStore Reopen(string path, int records, SeedShape shape)
    {
        long? newest;

        // Through the agent's own opening (migrations, if a step was added since), then the newest start: the last row
        // inserted, as Create inserts oldest first (one row read, where MAX(started_at) would scan every record).
        using (var database = new SqliteDatabase(Options.Create(new SqliteStoreOptions { Path = path }), NullLogger<SqliteDatabase>.Instance))
        {
            using var connection = database.OpenConnection();
            using var command = connection.CreateCommand();
            command.CommandText = "SELECT started_at FROM usage_records ORDER BY rowid DESC LIMIT 1;";
            newest = command.ExecuteScalar() is long micros ? micros : null;
        }

        // Create spreads the starts over [from, to - 1 s] with to = the day after seeding, at midnight UTC.
        var last = newest is { } value ? DateTimeOffset.UnixEpoch.AddTicks(value * 10) : DateTimeOffset.UtcNow;
        var to = new DateTimeOffset(last.UtcDateTime.Date, TimeSpan.Zero).AddDays(1);
        var accounts = Enumerable.Range(0, shape.Accounts).Select(i => $"acct_{i:x16}").ToArray();
        var models = Enumerable.Range(0, shape.Models).Select(i => $"model-{i}").ToArray();
        return new SeededStore(path, records, accounts, models, RareModel, to.AddDays(-shape.Days), to, TimeSpan.Zero);
    }

    private static void SeedAccounts(SqliteConnection connection, SqliteTransaction transaction, string[] accounts, DateTimeOffset from)
    {
        using var account = Command(connection, transaction, "INSERT INTO accounts (account_id, name, created_at) VALUES (@a, @n, @t);", "@a", "@n", "@t");
        using var key = Command(connection, transaction, """
            INSERT INTO api_keys (key_id, account_id, key_hash, prefix, created_at, revoked_at) VALUES (@k, @a, @h, @p, @t, NULL);
            """, "@k", "@a", "@h", "@p", "@t");
        using var lot = Command(connection, transaction, """
            INSERT INTO credit_lots (lot_id, account_id, contract_id, contract_version, delivery_id, delivered, available, pending,
                                     redeemed, window_start, window_end, delivered_at)
            VALUES (@l, @a, 'contract-std', 1, @d, 1000000000000000, 1000000000000000, 0, 0, @ws, @we, @ws);
            INSERT INTO deliveries (delivery_id, payload_sha256, lot_id, applied_at) VALUES (@d, @h, @l, @ws);
            """, "@l", "@a", "@d", "@h", "@ws", "@we");
        var at = Micros(from.AddDays(-1));
        for (var i = 0; i < accounts.Length; i++)
        {
            Run(account, accounts[i], $"Enterprise {i}", at);
            Run(key, $"key_{i:x16}", accounts[i], $"{i:x64}", "mk_seed", at);
            Run(lot, $"lot_{i:x16}", accounts[i], $"dlv_{i:x16}", $"{i:x64}", at, Micros(from.AddDays(365)));
        }
    }

    private static void SeedRecords(
        SqliteConnection connection, SqliteTransaction transaction, int records, string[] accounts, string[] models,
        DateTimeOffset from, DateTimeOffset to, Random random)
    {
        string[] columns =
        [
            "id", "account_id", "key_id", "surface", "route_id", "cluster_id", "requested_model", "served_model", "stream",
            "started_at", "first_token_at", "ended_at", "status", "http_status", "error", "native_reported",
            "native_input_tokens", "native_cached_input_tokens", "native_cache_write_tokens", "native_output_tokens",
            "native_reasoning_tokens", "reference_input_tokens", "reference_output_tokens", "quality", "non_text_input",
            "reference_tokenizer", "contract_id", "contract_version", "units_micro", "redeemed_micro", "overage_micro", "lot_ids",
            "units_basis", "flags",
        ];
        var names = columns.Select(c => "@" + c).ToArray();
        using var insert = Command(
            connection, transaction, $"INSERT INTO usage_records ({string.Join(", ", columns)}) VALUES ({string.Join(", ", names)});", names);
        using var log = Command(
            connection, transaction,
            "INSERT INTO log_entries (idx, usage_id, entry, contract_id, started_at) VALUES (@idx, @usage_id, @entry, @contract_id, @started_at);",
            "@idx", "@usage_id", "@entry", "@contract_id", "@started_at");

        var span = (to - from).Ticks - TimeSpan.TicksPerSecond;
        var values = new object?[columns.Length];
        for (var n = 0; n < records; n++)
        {
            // Evenly spread, oldest first, whole microseconds as the store keeps them.
            var startedAt = from.AddTicks(span / Math.Max(records, 1) * n / 10 * 10);
            var accountIndex = n % accounts.Length;
            var model = random.Next(10_000) == 0 ? RareModel : models[random.Next(models.Length)];
            var roll = random.Next(10_000);
            var status = roll switch
            {
                0 => "rejected",
                < 11 => "upstream_failed",
                < 111 => "upstream_error",
                < 311 => "client_aborted",
                _ => "completed",
            };
            var served = status is "rejected" or "upstream_failed" ? null : model + "-2026-01-01";
            var input = (long)random.Next(10, 4000);
            var output = status is "completed" or "client_aborted" ? random.Next(1, 1500) : 0L;
            var units = (input + (2 * output)) * 1000;
            var id = Guid.CreateVersion7(startedAt).ToString("N");
            var ended = startedAt.AddMilliseconds(200 + random.Next(3000));
            var native = served is not null;

            values[0] = id;
            values[1] = accounts[accountIndex];
            values[2] = $"key_{accountIndex:x16}";
            values[3] = "openai.chat_completions";
            values[4] = "openai-chat";
            values[5] = "openai";
            values[6] = model;
            values[7] = served;
            values[8] = (n & 1) == 0 ? 1L : 0L;
            values[9] = Micros(startedAt);
            values[10] = native ? Micros(startedAt.AddMilliseconds(150)) : null;
            values[11] = Micros(ended);
            values[12] = status;
            values[13] = status switch { "rejected" => 429L, "upstream_failed" => 502L, "upstream_error" => 500L, _ => 200L };
            values[14] = status is "completed" ? null : "seeded " + status;
            values[15] = native ? 1L : 0L;
            values[16] = native ? input : null;
            values[17] = native ? input / 4 : null;
            values[18] = native ? 0L : null;
            values[19] = native ? output : null;
            values[20] = native ? 0L : null;
            values[21] = input;
            values[22] = output;
            values[23] = native ? "native" : "estimated";
            values[24] = 0L;
            values[25] = "o200k_base";
            values[26] = status is "rejected" ? null : "contract-std";
            values[27] = status is "rejected" ? null : 1L;
            values[28] = status is "rejected" ? null : units;
            values[29] = status is "rejected" ? null : units;
            values[30] = status is "rejected" ? null : 0L;
            values[31] = status is "rejected" ? "[]" : $"[\"lot_{accountIndex:x16}\"]";
            values[32] = status is "rejected" ? null : "native";
            values[33] = string.Empty;
            Run(insert, values);

            var entry = new UsageEntry
            {
                UsageId = id,
                AccountId = accounts[accountIndex],
                Surface = "openai.chat_completions",
                RequestedModel = model,
                ServedModel = served,
                StartedAtMicros = Micros(startedAt),
                EndedAtMicros = Micros(ended),
                Status = status,
                NativeInputTokens = (long?)values[16],
                NativeCachedInputTokens = (long?)values[17],
                NativeCacheWriteTokens = (long?)values[18],
                NativeOutputTokens = (long?)values[19],
                NativeReasoningTokens = (long?)values[20],
                ReferenceInputTokens = input,
                ReferenceOutputTokens = output,
                ReferenceTokenizer = "o200k_base",
                ContractId = (string?)values[26],
                ContractVersion = status is "rejected" ? null : 1,
                UnitsMicro = (long?)values[28],
                RedeemedMicro = (long?)values[29] ?? 0,
                OverageMicro = 0,
                UnitsBasis = (string?)values[32],
                Flags = string.Empty,
                NonTextInput = false,
            };
            Run(log, (long)n, id, UsageEntryEncoding.Encode(entry), values[26], values[9]);
        }
    }

    private static long Micros(DateTimeOffset value) => (value - DateTimeOffset.UnixEpoch).Ticks / 10;

    private static SqliteCommand Command(SqliteConnection connection, SqliteTransaction transaction, string sql, params string[] parameters)
    {
        var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        foreach (var name in parameters)
        {
            command.Parameters.Add(new SqliteParameter { ParameterName = name });
        }

        command.Prepare();
        return command;
    }

    private static void Run(SqliteCommand command, params object?[] values)
    {
        for (var i = 0; i < values.Length; i++)
        {
            command.Parameters[i].Value = values[i] ?? DBNull.Value;
        }

        command.ExecuteNonQuery();
    }
}
