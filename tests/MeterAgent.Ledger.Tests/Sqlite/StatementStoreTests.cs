using System.Text;
using MeterAgent.Ledger.Sqlite;
using MeterAgent.Ledger.Statements;
using MeterAgent.Ledger.Usage;
using Microsoft.Data.Sqlite;

namespace MeterAgent.Ledger.Tests.Sqlite;

/// <summary>Statements are an append-only chain; an interval's leaves are found by contract and start time.</summary>
public sealed class StatementStoreTests
{
    private static readonly DateTimeOffset T0 = UsageRecords.T0;

    private static (StatementHeader, byte[]) Statement(long sequence, string contract = "c1", DateTimeOffset? start = null, long? amends = null, long treeSize = 10) =>
        (new StatementHeader
        {
            Sequence = sequence,
            ContractId = contract,
            IntervalStart = start ?? T0,
            IntervalEnd = (start ?? T0).AddMinutes(15),
            Amends = amends,
            TreeSize = treeSize,
            Digest = [(byte)sequence, 1, 2, 3],
            CreatedAt = T0.AddHours(1),
        }, Encoding.UTF8.GetBytes($"{{\"envelope\":{sequence}}}"));

    [Fact]
    public async Task Statements_chain_by_sequence_and_read_back_exactly()
    {
        using var dir = new TempFolder();
        await using var store = TestStore.Open(dir.DbPath);
        var statements = new SqliteStatementStore(store.Database, store.Writer);
        Assert.Null(await statements.LatestAsync());
        Assert.Null(await statements.StatedUntilAsync("c1"));

        await statements.AppendAsync([Statement(1), Statement(2, "c2")]);
        await statements.AppendAsync([Statement(3, amends: 1, treeSize: 12), Statement(4, start: T0.AddMinutes(15), treeSize: 12)]);

        var latest = await statements.LatestAsync();
        Assert.Equal((4L, "c1", 12L), (latest!.Sequence, latest.ContractId, latest.TreeSize));
        Assert.Equal([2L, 3L], (await statements.ListAsync(1, 2)).Select(h => h.Sequence));
        Assert.Empty(await statements.ListAsync(4, 100));
        Assert.Equal(Statement(3).Item2, await statements.GetEnvelopeAsync(3));
        Assert.Null(await statements.GetEnvelopeAsync(5));

        var interval = await statements.ForIntervalAsync("c1", T0);
        Assert.Equal([1L, 3L], interval.Select(h => h.Sequence));
        Assert.Equal((long?)1, interval[1].Amends);
        Assert.Equal(Statement(3).Item1.Digest, interval[1].Digest);
        Assert.Equal(T0.AddMinutes(30), await statements.StatedUntilAsync("c1"));
        Assert.Equal(T0.AddMinutes(15), await statements.StatedUntilAsync("c2"));
    }

    [Fact]
    public async Task A_statement_that_does_not_continue_the_chain_is_refused_with_its_whole_write()
    {
        using var dir = new TempFolder();
        await using var store = TestStore.Open(dir.DbPath);
        var statements = new SqliteStatementStore(store.Database, store.Writer);
        await statements.AppendAsync([Statement(1)]);

        await Assert.ThrowsAnyAsync<InvalidOperationException>(() => statements.AppendAsync([Statement(1)]));
        await Assert.ThrowsAnyAsync<InvalidOperationException>(() => statements.AppendAsync([Statement(3)]));
        await Assert.ThrowsAnyAsync<InvalidOperationException>(() => statements.AppendAsync([Statement(2), Statement(4)]));

        Assert.Equal([1L], (await statements.ListAsync(0, 100)).Select(h => h.Sequence));
    }

    [Fact]
    public async Task An_intervals_leaves_are_the_contracts_entries_started_in_it_below_the_size_in_index_order()
    {
        using var dir = new TempFolder();
        await using var store = TestStore.Open(dir.DbPath);
        var log = new SqliteUsageLog(store.Database, store.Writer);
        var statements = new SqliteStatementStore(store.Database, store.Writer);

        UsageRecord Closed(string? contract, DateTimeOffset started)
        {
            var record = UsageRecords.Minimal(startedAt: started);
            record.Status = UsageStatus.Completed;
            record.EndedAt = started.AddSeconds(1);
            record.ContractId = contract;
            return record;
        }

        await log.AppendAsync(
        [
            Closed("c1", T0.AddMinutes(1)),      // 0: in
            Closed("c2", T0.AddMinutes(2)),      // 1: other contract
            Closed(null, T0.AddMinutes(3)),      // 2: no contract
            Closed("c1", T0.AddMinutes(15)),     // 3: next interval
            Closed("c1", T0.AddMinutes(14)),     // 4: in, appended late
            Closed("c1", T0.AddMinutes(-1)),     // 5: previous interval
            Closed("c1", T0),                    // 6: in, at the start
        ]);

        var leaves = await statements.LeavesAsync("c1", T0, T0.AddMinutes(15), belowIndex: 7);
        Assert.Equal([0L, 4L, 6L], leaves.Select(l => l.Index));
        Assert.Equal((await log.ReadAsync(4, 1)).Single(), leaves[1].Entry);
        Assert.Equal([0L, 4L], (await statements.LeavesAsync("c1", T0, T0.AddMinutes(15), belowIndex: 6)).Select(l => l.Index));
        Assert.Empty(await statements.LeavesAsync("c3", T0, T0.AddMinutes(15), belowIndex: 7));
        Assert.Equal(["c1", "c2"], await statements.LoggedContractsAsync());
        Assert.Equal(T0.AddMinutes(-1), await statements.FirstStartAsync("c1"));
        Assert.Null(await statements.FirstStartAsync("c3"));
    }

    [Fact]
    public async Task Log_entries_written_before_schema_5_learn_their_contract_and_start()
    {
        using var dir = new TempFolder();
        using (var connection = new SqliteConnection($"Data Source={dir.DbPath};Pooling=False"))
        {
            connection.Open();
            SqliteSchema.Migrate(connection, target: 4);
            using var insert = connection.CreateCommand();
            insert.CommandText = """
                INSERT INTO usage_records (id, account_id, key_id, surface, stream, started_at, ended_at, status, native_reported,
                    reference_input_tokens, reference_output_tokens, quality, non_text_input, contract_id)
                VALUES ('usage_v4', 'acct_1', 'key_1', 'openai.chat_completions', 0, @started, @started, 'completed', 0, 12, 34, 'estimated', 0, 'c1');
                INSERT INTO log_entries (idx, usage_id, entry) VALUES (0, 'usage_v4', x'01');
                """;
            insert.Parameters.AddWithValue("@started", T0.ToUnixTimeMilliseconds() * 1000);
            insert.ExecuteNonQuery();
        }

        await using var store = TestStore.Open(dir.DbPath);
        var statements = new SqliteStatementStore(store.Database, store.Writer);
        Assert.Equal(T0, await statements.FirstStartAsync("c1"));
        Assert.Equal([0L], (await statements.LeavesAsync("c1", T0, T0.AddMinutes(1), 1)).Select(l => l.Index));
    }
}
