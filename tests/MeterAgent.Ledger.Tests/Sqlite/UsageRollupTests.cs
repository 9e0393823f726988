using MeterAgent.Ledger.Counters;
using MeterAgent.Ledger.Sqlite;
using MeterAgent.Ledger.Usage;

namespace MeterAgent.Ledger.Tests.Sqlite;

/// <summary>
/// The usage rollups (schema step 10) must give exactly what the plain SUM over the records gives: on random records,
/// with folds at random points, records closed again after they were folded, and closes running while reading.
/// </summary>
public sealed class UsageRollupTests
{
    private static readonly DateTimeOffset Day0 = new(2026, 3, 1, 0, 0, 0, TimeSpan.Zero);
    private static readonly string[] Accounts = ["acct_a", "acct_b", "acct_c"];
    private static readonly string?[] Models = ["m1", "m2", "m3", null];
    private static readonly UsageStatus[] Statuses =
        [UsageStatus.Completed, UsageStatus.Completed, UsageStatus.ClientAborted, UsageStatus.UpstreamError, UsageStatus.Rejected];

    private static UsageRecord RandomRecord(Random random)
    {
        var model = Models[random.Next(Models.Length)];
        var native = random.Next(3) > 0;
        return new UsageRecord
        {
            Id = Guid.CreateVersion7().ToString("N"),
            AccountId = Accounts[random.Next(Accounts.Length)],
            KeyId = "key",
            Surface = "openai.chat_completions",
            RequestedModel = model,
            ServedModel = random.Next(2) == 0 ? null : model + "-served",
            StartedAt = Day0.AddTicks(random.NextInt64(TimeSpan.TicksPerDay * 5) / 10 * 10),
            EndedAt = Day0.AddDays(6),
            Status = Statuses[random.Next(Statuses.Length)],
            NativeReported = native,
            NativeInputTokens = native ? random.Next(1000) : null,
            NativeOutputTokens = native ? random.Next(1000) : null,
            NativeCachedInputTokens = native && random.Next(2) == 0 ? random.Next(100) : null,
            ReferenceInputTokens = random.Next(1000),
            ReferenceOutputTokens = random.Next(1000),
            ContractId = random.Next(3) == 0 ? null : "c" + random.Next(2),
            UnitsMicro = random.Next(2) == 0 ? null : random.Next(1_000_000),
            RedeemedMicro = random.Next(2) == 0 ? null : random.Next(1_000_000),
            OverageMicro = random.Next(2) == 0 ? null : random.Next(1000),
        };
    }

    private static string Text(IEnumerable<(string ContractId, string Model, UsageTotals Totals)> rows) =>
        string.Join("\n", rows.Select(r => $"{r.ContractId}|{r.Model}|{string.Join(",", Enumerable.Range(0, UsageTotals.FieldNames.Count).Select(i => r.Totals[i]))}"));

    private static string Text(IEnumerable<DailyUsage> rows) =>
        string.Join("\n", rows.Select(r => $"{r.Day}|{r.Model}|{string.Join(",", Enumerable.Range(0, UsageTotals.FieldNames.Count).Select(i => r.Totals[i]))}"));

    private static async Task AssertSameAsync(TestStore store)
    {
        var counters = new SqliteUsageCounters(store.Database);
        var reports = new SqliteUsageReports(store.Database);
        foreach (var account in Accounts)
        {
            Assert.Equal(Text(await counters.ReadPlainAsync(account)), Text(await counters.ReadAsync(account)));
        }

        (DateTimeOffset From, DateTimeOffset To)[] ranges =
        [
            (Day0, Day0.AddDays(5)),
            (Day0.AddDays(1), Day0.AddDays(3)),
            (Day0.AddHours(7).AddTicks(30), Day0.AddDays(3).AddHours(5)),
            (Day0.AddHours(2), Day0.AddHours(20)),
            (Day0.AddDays(-3), Day0.AddDays(10)),
        ];
        foreach (var (from, to) in ranges)
        {
            foreach (var account in Accounts.Append(null))
            {
                Assert.Equal(Text(await reports.DailyPlainAsync(account, from, to)), Text(await reports.DailyAsync(account, from, to)));
            }
        }
    }

    [Fact]
    public async Task Rollup_reads_equal_the_plain_sums_through_folds_and_records_closed_again()
    {
        using var dir = new TempFolder();
        await using var store = TestStore.Open(dir.DbPath);
        var random = new Random(1234);
        var closed = new List<UsageRecord>();
        for (var round = 0; round < 6; round++)
        {
            for (var i = 0; i < 150; i++)
            {
                var record = RandomRecord(random);
                await store.Usage.CloseAsync(record);
                closed.Add(record);
            }

            // Part of them folded (a batch smaller than what is waiting), the rest read past the watermark.
            await store.Writer.SubmitAsync(new RollupFoldWrite(random.Next(20, 200)), CancellationToken.None);

            // Records closed again with other totals, some folded already, some not: the trigger moves the folded ones.
            foreach (var again in closed.OrderBy(_ => random.Next()).Take(20))
            {
                again.Status = Statuses[random.Next(Statuses.Length)];
                again.ReferenceInputTokens = random.Next(1000);
                again.NativeOutputTokens = random.Next(2) == 0 ? null : random.Next(500);
                again.ServedModel = random.Next(2) == 0 ? null : "moved-model";
                again.ContractId = random.Next(2) == 0 ? null : "c9";
                await store.Usage.CloseAsync(again);
            }

            await AssertSameAsync(store);
        }

        // Caught up: everything read from the rollups alone.
        while (await store.Writer.SubmitAsync(new RollupFoldWrite(500), CancellationToken.None) > 0)
        {
        }

        Assert.Equal(0L, Scalar(store, "SELECT COUNT(*) FROM usage_records WHERE rowid > (SELECT folded FROM usage_rollup_state);"));
        await AssertSameAsync(store);

        // The id ranges the folds kept (the record pages' time bounds) are each day's smallest and largest id.
        Assert.Equal(
            Rows(store, $"SELECT account_id, {UsageRollupSql.Day}, MIN(id), MAX(id) FROM usage_records GROUP BY 1, 2 ORDER BY 1, 2;"),
            Rows(store, "SELECT account_id, day, min_id, max_id FROM usage_id_range ORDER BY 1, 2;"));
        Assert.Equal(
            Rows(store, $"SELECT {UsageRollupSql.Day}, MIN(id), MAX(id) FROM usage_records GROUP BY 1 ORDER BY 1;"),
            Rows(store, "SELECT day, min_id, max_id FROM usage_id_range_day ORDER BY 1;"));
    }

    [Fact]
    public async Task A_fold_puts_a_row_left_open_in_the_id_ranges_but_not_in_the_rollups()
    {
        using var dir = new TempFolder();
        await using var store = TestStore.Open(dir.DbPath);
        var record = RandomRecord(new Random(7));
        record.Status = UsageStatus.Completed;
        await store.Usage.CloseAsync(record);

        // A row an older file left open (opens were usage_records rows before the journal): the same record, still open.
        var openId = record.Id + "-open";
        Execute(store, $"""
            CREATE TEMP TABLE copy AS SELECT * FROM usage_records;
            UPDATE copy SET id = '{openId}', status = '{UsageStatusNames.Open}';
            INSERT INTO usage_records SELECT * FROM copy;
            """);
        await store.Writer.SubmitAsync(new RollupFoldWrite(500), CancellationToken.None);

        Assert.Equal(0L, Scalar(store, "SELECT COUNT(*) FROM usage_records WHERE rowid > (SELECT folded FROM usage_rollup_state);"));
        Assert.Equal(1L, Scalar(store, "SELECT SUM(requests) FROM usage_rollup;"));
        Assert.Equal(1L, Scalar(store, "SELECT SUM(requests) FROM usage_rollup_day;"));
        Assert.Equal($"{record.Id},{openId}", Rows(store, "SELECT min_id, max_id FROM usage_id_range;"));
        Assert.Equal($"{record.Id},{openId}", Rows(store, "SELECT min_id, max_id FROM usage_id_range_day;"));
        await AssertSameAsync(store);
    }

    [Fact]
    public async Task Rollup_reads_equal_the_plain_sums_in_the_same_snapshot_while_records_close_and_fold()
    {
        using var dir = new TempFolder();
        await using var store = TestStore.Open(dir.DbPath);
        using var stop = new CancellationTokenSource();
        var closed = 0;
        var writers = Task.Run(async () =>
        {
            var random = new Random(99);
            while (!stop.IsCancellationRequested)
            {
                await store.Usage.CloseAsync(RandomRecord(random));
                if (Interlocked.Increment(ref closed) % 25 == 0)
                {
                    await store.Writer.SubmitAsync(new RollupFoldWrite(random.Next(5, 60)), CancellationToken.None);
                }
            }

            return Volatile.Read(ref closed);
        });

        // Reads go on until enough records have closed and folded under them (each close after a commit is held for
        // the closes behind it, so on a loaded machine a lone writer closes few per second), for 3 s at least.
        var compared = 0;
        var least = DateTime.UtcNow.AddSeconds(3);
        var most = DateTime.UtcNow.AddSeconds(60);
        while (DateTime.UtcNow < most && (DateTime.UtcNow < least || Volatile.Read(ref closed) <= 100 || compared <= 10))
        {
            // Both sums in one read transaction: the same snapshot, whatever the writer does meanwhile.
            using var connection = store.Database.OpenConnection();
            using var transaction = connection.BeginTransaction(deferred: true);
            foreach (var account in Accounts)
            {
                Assert.Equal(Rows(connection, transaction, SqliteUsageCounters.PlainSum, account), Rows(connection, transaction, SqliteUsageCounters.Sum, account));
            }

            compared++;
        }

        await stop.CancelAsync();
        var closedCount = await writers;
        Assert.True(closedCount > 100, $"only {closedCount} records closed during the reads");
        Assert.True(compared > 10, $"only {compared} comparisons");
        await AssertSameAsync(store);
    }

    private static string Rows(Microsoft.Data.Sqlite.SqliteConnection connection, Microsoft.Data.Sqlite.SqliteTransaction transaction, string sql, string account)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        command.Parameters.AddWithValue("@account_id", account);
        return Rows(command);
    }

    private static string Rows(TestStore store, string sql)
    {
        using var connection = store.Database.OpenConnection();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return Rows(command);
    }

    /// <summary>The command's rows as text: a line per row, its values joined by commas.</summary>
    private static string Rows(Microsoft.Data.Sqlite.SqliteCommand command)
    {
        using var reader = command.ExecuteReader();
        var rows = new List<string>();
        while (reader.Read())
        {
            rows.Add(string.Join(",", Enumerable.Range(0, reader.FieldCount).Select(i => reader.GetValue(i).ToString())));
        }

        return string.Join("\n", rows);
    }

    private static void Execute(TestStore store, string sql)
    {
        using var connection = store.Database.OpenConnection();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    private static long Scalar(TestStore store, string sql)
    {
        using var connection = store.Database.OpenConnection();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return (long)command.ExecuteScalar()!;
    }
}
