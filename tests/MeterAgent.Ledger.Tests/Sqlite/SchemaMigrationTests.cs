using MeterAgent.Ledger.Credits;
using MeterAgent.Ledger.Sqlite;
using MeterAgent.Ledger.Tests.Credits;
using MeterAgent.Ledger.Usage;
using Microsoft.Data.Sqlite;

namespace MeterAgent.Ledger.Tests.Sqlite;

public sealed class SchemaMigrationTests
{
    /// <summary>A file exactly as the first release left it: schema v1 with an account and a closed usage record.</summary>
    private static void CreateVersion1(string path, string accountId, UsageRecord record)
    {
        using var connection = new SqliteConnection($"Data Source={path}");
        connection.Open();
        using (var wal = connection.CreateCommand())
        {
            wal.CommandText = "PRAGMA journal_mode = WAL;";
            wal.ExecuteNonQuery();
        }

        SqliteSchema.Migrate(connection, target: 1);
        using var insert = connection.CreateCommand();
        insert.CommandText = """
            INSERT INTO accounts (account_id, name, created_at) VALUES (@account, 'Acme', 0);
            INSERT INTO usage_records (id, account_id, key_id, surface, stream, started_at, status, native_reported,
                reference_input_tokens, reference_output_tokens, quality, non_text_input)
            VALUES (@id, @account, 'key_1', 'openai.chat_completions', 0, @started, 'completed', 0, 12, 34, 'estimated', 0);
            """;
        insert.Parameters.AddWithValue("@account", accountId);
        insert.Parameters.AddWithValue("@id", record.Id);
        insert.Parameters.AddWithValue("@started", UsageRecords.T0.ToUnixTimeMilliseconds() * 1000);
        insert.ExecuteNonQuery();
        SqliteConnection.ClearPool(connection);
    }

    [Fact]
    public async Task A_version_1_file_migrates_forward_keeping_its_records_and_takes_credits_after()
    {
        using var dir = new TempFolder();
        const string AccountId = "acct_00000000000000a1";
        var old = UsageRecords.Minimal(AccountId);
        CreateVersion1(dir.DbPath, AccountId, old);

        await using var store = TestStore.Open(dir.DbPath);

        using (var connection = store.Database.OpenConnection())
        using (var version = connection.CreateCommand())
        {
            version.CommandText = "PRAGMA user_version;";
            Assert.Equal((long)SqliteSchema.CurrentVersion, version.ExecuteScalar());
        }

        // The old record reads back with no credit fields: it predates them.
        var migrated = await store.Usage.GetAsync(old.Id);
        Assert.NotNull(migrated);
        Assert.Equal((12L, 34L, UsageStatus.Completed), (migrated.ReferenceInputTokens, migrated.ReferenceOutputTokens, migrated.Status));
        Assert.Null(migrated.ContractId);
        Assert.Null(migrated.ContractVersion);
        Assert.Null(migrated.UnitsMicro);
        Assert.Null(migrated.RedeemedMicro);
        Assert.Null(migrated.OverageMicro);
        Assert.Empty(migrated.LotIds);

        // The old account takes deliveries and reservations.
        var delivery = await store.Credits.ApplyDeliveryAsync(Credit.Notice(AccountId, 5 * Credit.Unit), Credit.T0);
        Assert.Equal(DeliveryOutcomeKind.Applied, delivery.Kind);
        Assert.True((await store.Credits.ReserveAsync(Credit.Request(AccountId, Credit.Unit))).Granted);

        // And new records keep the credit fields.
        var full = UsageRecords.Full(UsageRecords.T0.AddSeconds(1));
        await store.Usage.CloseAsync(full);
        UsageRecords.AssertSame(full, await store.Usage.GetAsync(full.Id));
    }

    [Fact]
    public async Task A_version_12_file_keeps_its_pending_reservations_for_the_expiry_sweep_and_the_console()
    {
        using var dir = new TempFolder();
        const string AccountId = "acct_00000000000000c1";
        var due = Credit.T0.AddMinutes(-1);
        var later = Credit.T0.AddHours(1);
        using (var connection = new SqliteConnection($"Data Source={dir.DbPath};Pooling=False"))
        {
            connection.Open();
            SqliteSchema.Migrate(connection, target: 12);
            using var insert = connection.CreateCommand();

            // One lot of 10 units: 0.5 redeemed by a posted reservation, 3 pending in two (one past its deadline).
            insert.CommandText = """
                INSERT INTO accounts (account_id, name, created_at) VALUES (@account, 'Acme', 0);
                INSERT INTO credit_lots (lot_id, account_id, contract_id, contract_version, delivery_id, delivered, available,
                    pending, redeemed, window_start, window_end, delivered_at)
                VALUES ('lot_1', @account, 'std', 1, 'd1', 10000000, 6500000, 3000000, 500000, 0, @far, 0);
                INSERT INTO reservations (reservation_id, account_id, contract_id, state, reserved, posted, overage, created_at, expires_at)
                VALUES ('r_due', @account, 'std', 'pending', 1000000, 0, 0, 1, @due),
                       ('r_live', @account, 'std', 'pending', 2000000, 0, 0, 2, @later),
                       ('r_posted', @account, 'std', 'posted', 500000, 500000, 0, 0, @due);
                INSERT INTO reservation_draws (reservation_id, seq, lot_id, reserved, posted)
                VALUES ('r_due', 0, 'lot_1', 1000000, 0), ('r_live', 0, 'lot_1', 2000000, 0), ('r_posted', 0, 'lot_1', 500000, 500000);
                """;
            insert.Parameters.AddWithValue("@account", AccountId);
            insert.Parameters.AddWithValue("@far", later.AddDays(30).ToUnixTimeMilliseconds() * 1000);
            insert.Parameters.AddWithValue("@due", due.ToUnixTimeMilliseconds() * 1000);
            insert.Parameters.AddWithValue("@later", later.ToUnixTimeMilliseconds() * 1000);
            insert.ExecuteNonQuery();
        }

        await using var store = TestStore.Open(dir.DbPath);
        using (var connection = store.Database.OpenConnection())
        {
            // The sweep's index now holds the pending reservations only.
            Assert.Equal("ix_reservations_pending_expires\nsqlite_autoindex_reservations_1", Rows(connection,
                "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'reservations' ORDER BY name"));
        }

        // The console lists both in flight; the sweep releases the one past its deadline and only that one.
        Assert.Equal(["r_due", "r_live"], (await store.Credits.GetPendingReservationsAsync(AccountId, 10)).Select(r => r.ReservationId));
        Assert.Equal(1, await store.Credits.ExpireAsync(Credit.T0));
        Assert.Equal(["r_live"], (await store.Credits.GetPendingReservationsAsync(AccountId, 10)).Select(r => r.ReservationId));
        var lot = Assert.Single(await store.Credits.GetLotsAsync(AccountId));
        Assert.Equal((7_500_000L, 2_000_000L, 500_000L), (lot.AvailableMicro, lot.PendingMicro, lot.RedeemedMicro));
    }

    [Fact]
    public async Task The_overage_held_by_pending_reservations_is_read_through_their_index_not_every_reservation()
    {
        using var dir = new TempFolder();
        await using var store = TestStore.Open(dir.DbPath);
        using var connection = store.Database.OpenConnection();

        // allow_up_to reads it on the reserve's path: a scan of every reservation ever made would grow with each request.
        var plan = Rows(connection, "EXPLAIN QUERY PLAN " + CreditLedgerSql.SelectOverageHeld.Replace("@account_id", "'acct_1'", StringComparison.Ordinal));
        Assert.Contains("USING INDEX ix_reservations_pending_expires", plan, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Lot_ids_are_stored_as_a_json_array_any_sqlite_tool_can_read()
    {
        using var dir = new TempFolder();
        await using var store = TestStore.Open(dir.DbPath);
        var record = UsageRecords.Full(UsageRecords.T0);
        record.LotIds = ["lot_00000000000000a1", "lot_\"quoted\""];

        await store.Usage.CloseAsync(record);

        using var connection = store.Database.OpenConnection();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT group_concat(value, '|') FROM usage_records, json_each(usage_records.lot_ids) WHERE usage_records.id = @id;";
        command.Parameters.AddWithValue("@id", record.Id);
        Assert.Equal("lot_00000000000000a1|lot_\"quoted\"", command.ExecuteScalar());
        UsageRecords.AssertSame(record, await store.Usage.GetAsync(record.Id));
    }

    /// <summary>
    /// A file as schema step 9 left it: random records of three accounts over five days, most closed, some open (a
    /// crash's leftovers), some with no model or contract; ids in random order against their start times.
    /// </summary>
    private static void CreateVersion9(string path, int records, int seed)
    {
        using var connection = new SqliteConnection($"Data Source={path};Pooling=False");
        connection.Open();
        using (var wal = connection.CreateCommand())
        {
            wal.CommandText = "PRAGMA journal_mode = WAL;";
            wal.ExecuteNonQuery();
        }

        SqliteSchema.Migrate(connection, target: 9);
        using var transaction = connection.BeginTransaction();
        using var insert = connection.CreateCommand();
        insert.Transaction = transaction;
        insert.CommandText = """
            INSERT INTO usage_records (id, account_id, key_id, surface, requested_model, served_model, stream, started_at, ended_at,
                status, native_reported, native_input_tokens, native_cached_input_tokens, native_output_tokens, reference_input_tokens,
                reference_output_tokens, quality, non_text_input, contract_id, units_micro, redeemed_micro, overage_micro)
            VALUES (@id, @account, 'key_1', 'openai.chat_completions', @requested, @served, 0, @started, @ended, @status, @native,
                @native_input, @native_cached, @native_output, @input, @output, 'estimated', 0, @contract, @units, @redeemed, @overage);
            """;
        var random = new Random(seed);
        string?[] models = ["m1", "m2", null];
        string[] statuses = ["completed", "completed", "completed", "client_aborted", "upstream_error", "rejected", "open"];
        object Maybe(long value) => random.Next(3) == 0 ? DBNull.Value : value;
        for (var i = 0; i < records; i++)
        {
            var model = models[random.Next(models.Length)];
            var native = random.Next(2) == 0;
            insert.Parameters.Clear();
            insert.Parameters.AddWithValue("@id", Guid.NewGuid().ToString("N"));
            insert.Parameters.AddWithValue("@account", "acct_" + random.Next(3));
            insert.Parameters.AddWithValue("@requested", (object?)model ?? DBNull.Value);
            insert.Parameters.AddWithValue("@served", model is null || random.Next(2) == 0 ? DBNull.Value : model + "-served");
            var started = UsageRecords.T0.ToUnixTimeMilliseconds() * 1000 + random.NextInt64(5 * 86_400_000_000L);
            insert.Parameters.AddWithValue("@started", started);
            insert.Parameters.AddWithValue("@ended", started + 1000);
            insert.Parameters.AddWithValue("@status", statuses[random.Next(statuses.Length)]);
            insert.Parameters.AddWithValue("@native", native ? 1 : 0);
            insert.Parameters.AddWithValue("@native_input", native ? random.Next(1000) : DBNull.Value);
            insert.Parameters.AddWithValue("@native_cached", native ? Maybe(random.Next(100)) : DBNull.Value);
            insert.Parameters.AddWithValue("@native_output", native ? random.Next(1000) : DBNull.Value);
            insert.Parameters.AddWithValue("@input", random.Next(1000));
            insert.Parameters.AddWithValue("@output", random.Next(1000));
            insert.Parameters.AddWithValue("@contract", random.Next(3) == 0 ? DBNull.Value : "c" + random.Next(2));
            insert.Parameters.AddWithValue("@units", Maybe(random.Next(1_000_000)));
            insert.Parameters.AddWithValue("@redeemed", Maybe(random.Next(1_000_000)));
            insert.Parameters.AddWithValue("@overage", Maybe(random.Next(1000)));
            insert.ExecuteNonQuery();
        }

        transaction.Commit();
    }

    /// <summary>Every row of a query, as text, for comparing two result sets whole.</summary>
    private static string Rows(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        using var reader = command.ExecuteReader();
        var rows = new List<string>();
        while (reader.Read())
        {
            rows.Add(string.Join(",", Enumerable.Range(0, reader.FieldCount).Select(i => reader.GetValue(i).ToString())));
        }

        return string.Join("\n", rows);
    }

    // The plain sums, written out here rather than taken from UsageRollupSql, so the test does not share the code it checks.
    private const string PlainSums = """
        COUNT(*), IFNULL(SUM(reference_input_tokens), 0), IFNULL(SUM(reference_output_tokens), 0), IFNULL(SUM(native_input_tokens), 0),
        IFNULL(SUM(native_cached_input_tokens), 0), IFNULL(SUM(native_cache_write_tokens), 0), IFNULL(SUM(native_output_tokens), 0),
        IFNULL(SUM(native_reasoning_tokens), 0), IFNULL(SUM(units_micro), 0), IFNULL(SUM(redeemed_micro), 0), IFNULL(SUM(overage_micro), 0)
        """;

    private const string RollupValues = """
        requests, reference_input_tokens, reference_output_tokens, native_input_tokens, native_cached_input_tokens,
        native_cache_write_tokens, native_output_tokens, native_reasoning_tokens, units_micro, redeemed_micro, overage_micro
        """;

    // A rollup row that is all zeros (a group whose records all moved away) is no row of the plain GROUP BY; any other is.
    private static readonly string NotAllZero = "(" + string.Join(" OR ", RollupValues.Split(',').Select(c => c.Trim() + " <> 0")) + ")";

    /// <summary>Both rollups hold exactly the plain GROUP BY of the closed records (no zero rows left behind either).</summary>
    private static void AssertRollupsArePlainSums(SqliteConnection connection)
    {
        Assert.Equal(
            Rows(connection, $"""
                SELECT account_id, started_at / 86400000000, IFNULL(contract_id, ''), COALESCE(served_model, requested_model, ''), {PlainSums}
                FROM usage_records WHERE status <> 'open' GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4;
                """),
            Rows(connection, $"SELECT account_id, day, contract_id, model, {RollupValues} FROM usage_rollup WHERE {NotAllZero} ORDER BY 1, 2, 3, 4;"));
        Assert.Equal(
            Rows(connection, $"""
                SELECT started_at / 86400000000, IFNULL(contract_id, ''), COALESCE(served_model, requested_model, ''), {PlainSums}
                FROM usage_records WHERE status <> 'open' GROUP BY 1, 2, 3 ORDER BY 1, 2, 3;
                """),
            Rows(connection, $"SELECT day, contract_id, model, {RollupValues} FROM usage_rollup_day WHERE {NotAllZero} ORDER BY 1, 2, 3;"));
    }

    [Fact]
    public async Task A_version_9_file_opens_with_the_console_indexes_and_its_records_folded_into_the_rollups_and_id_ranges()
    {
        using var dir = new TempFolder();
        CreateVersion9(dir.DbPath, records: 3000, seed: 910);

        await using var store = TestStore.Open(dir.DbPath);
        using (var connection = store.Database.OpenConnection())
        {
            Assert.Equal((long)SqliteSchema.CurrentVersion, Scalar(connection, "PRAGMA user_version;"));

            // Step 11: every record's id is inside its account's and its day's range, and the ranges are exactly the
            // records' MIN and MAX (open records included).
            Assert.Equal(
                Rows(connection, "SELECT account_id, started_at / 86400000000, MIN(id), MAX(id) FROM usage_records GROUP BY 1, 2 ORDER BY 1, 2;"),
                Rows(connection, "SELECT account_id, day, min_id, max_id FROM usage_id_range ORDER BY 1, 2;"));
            Assert.Equal(
                Rows(connection, "SELECT started_at / 86400000000, MIN(id), MAX(id) FROM usage_records GROUP BY 1 ORDER BY 1;"),
                Rows(connection, "SELECT day, min_id, max_id FROM usage_id_range_day ORDER BY 1;"));
            // Every index of the hot table: each one is written by every close, so none beyond these (no model index).
            Assert.Equal(
                "ix_usage_records_account_id,ix_usage_records_account_started,ix_usage_records_open,ix_usage_records_status_id",
                Rows(connection, """
                    SELECT group_concat(name) FROM (SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'usage_records'
                        AND name NOT LIKE 'sqlite_autoindex%' ORDER BY name);
                    """));
            Assert.Equal(1L, Scalar(connection, "SELECT COUNT(*) FROM sqlite_master WHERE type = 'trigger' AND name = 'usage_rollup_moved';"));

            // Every row the file had is folded (the watermark at the last), the open ones too (they count once closed, by the trigger).
            Assert.Equal(3000L, Scalar(connection, "SELECT COUNT(*) FROM usage_records;"));
            Assert.Equal(Scalar(connection, "SELECT MAX(rowid) FROM usage_records;"), Scalar(connection, "SELECT folded FROM usage_rollup_state;"));
            Assert.True(Scalar(connection, "SELECT COUNT(*) FROM usage_records WHERE status = 'open';") > 300);
            AssertRollupsArePlainSums(connection);
        }

        // The old run's open records closed by recovery: rows already folded, moved into the rollups by the update trigger.
        Assert.True(await store.Usage.RecoverOpenAsync() > 300);
        using (var connection = store.Database.OpenConnection())
        {
            Assert.Equal(0L, Scalar(connection, "SELECT COUNT(*) FROM usage_records WHERE status = 'open';"));
            AssertRollupsArePlainSums(connection);
        }

        // And the rollup reads (not only the tables) give the plain answers.
        var counters = new MeterAgent.Ledger.Sqlite.SqliteUsageCounters(store.Database);
        var reports = new MeterAgent.Ledger.Sqlite.SqliteUsageReports(store.Database);
        foreach (var account in new[] { "acct_0", "acct_1", "acct_2" })
        {
            Assert.Equal(Text(await counters.ReadPlainAsync(account)), Text(await counters.ReadAsync(account)));
        }

        foreach (var account in new[] { "acct_0", null })
        {
            Assert.Equal(
                Text(await reports.DailyPlainAsync(account, UsageRecords.T0.AddHours(-3), UsageRecords.T0.AddDays(6))),
                Text(await reports.DailyAsync(account, UsageRecords.T0.AddHours(-3), UsageRecords.T0.AddDays(6))));
        }
    }

    private static long Scalar(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return (long)command.ExecuteScalar()!;
    }

    private static string Text(IEnumerable<(string ContractId, string Model, MeterAgent.Ledger.Counters.UsageTotals Totals)> rows) =>
        string.Join("\n", rows.Select(r => $"{r.ContractId}|{r.Model}|{string.Join(",", Enumerable.Range(0, MeterAgent.Ledger.Counters.UsageTotals.FieldNames.Count).Select(i => r.Totals[i]))}"));

    private static string Text(IEnumerable<DailyUsage> rows) =>
        string.Join("\n", rows.Select(r => $"{r.Day}|{r.Model}|{string.Join(",", Enumerable.Range(0, MeterAgent.Ledger.Counters.UsageTotals.FieldNames.Count).Select(i => r.Totals[i]))}"));
}
