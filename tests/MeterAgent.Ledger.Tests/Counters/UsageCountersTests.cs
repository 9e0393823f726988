using MeterAgent.Ledger.Counters;
using MeterAgent.Ledger.Redis.Counters;
using MeterAgent.Ledger.Sqlite;
using MeterAgent.Ledger.Tests.Sqlite;
using MeterAgent.Ledger.Usage;
using StackExchange.Redis;

namespace MeterAgent.Ledger.Tests.Counters;

/// <summary>Live counters per account, contract and model: what the balance API shows.</summary>
public sealed class UsageCountersTests
{
    private static UsageRecord Closed(string account, string? contract, string model, long units, long input = 100, long output = 20)
    {
        var record = UsageRecords.Minimal(account, UsageRecords.T0.AddSeconds(Random.Shared.Next(1000)), model);
        record.Status = UsageStatus.Completed;
        record.EndedAt = record.StartedAt.AddSeconds(1);
        record.ReferenceInputTokens = input;
        record.ReferenceOutputTokens = output;
        record.NativeReported = true;
        record.NativeInputTokens = input + 1;
        record.NativeOutputTokens = output + 1;
        record.ContractId = contract;
        record.UnitsMicro = units;
        record.RedeemedMicro = contract is null ? null : units;
        return record;
    }

    private static Dictionary<UsageCounterKey, UsageTotals> Batch(params UsageRecord[] records)
    {
        var batch = new Dictionary<UsageCounterKey, UsageTotals>();
        foreach (var record in records)
        {
            var key = UsageCounterKey.Of(record);
            if (!batch.TryGetValue(key, out var totals))
            {
                batch[key] = totals = new UsageTotals();
            }

            totals.Add(record);
        }

        return batch;
    }

    [Fact]
    public async Task The_embedded_store_sums_the_accounts_closed_records_per_contract_and_model()
    {
        using var dir = new TempFolder();
        await using var store = TestStore.Open(dir.DbPath);
        var counters = new SqliteUsageCounters(store.Database);
        await store.Usage.CloseAsync(Closed("acct_a", "TOK-1", "gpt-4o", 5_000));
        await store.Usage.CloseAsync(Closed("acct_a", "TOK-1", "gpt-4o", 7_000));
        await store.Usage.CloseAsync(Closed("acct_a", null, "claude", 1_000));
        await store.Usage.CloseAsync(Closed("acct_b", "TOK-1", "gpt-4o", 9_999));
        await store.Usage.OpenAsync(UsageRecords.Minimal("acct_a", model: "gpt-4o")); // open: not counted

        var rows = await counters.ReadAsync("acct_a");

        Assert.False(counters.NeedsFlushing);
        Assert.Equal([("", "claude"), ("TOK-1", "gpt-4o")], rows.Select(r => (r.ContractId, r.Model)));
        var gpt = rows[1].Totals;
        Assert.Equal(2, gpt.Requests);
        Assert.Equal(200, gpt.ReferenceInputTokens);
        Assert.Equal(202, gpt.NativeInputTokens);
        Assert.Equal(12_000, gpt.UnitsMicro);
        Assert.Equal(12_000, gpt.RedeemedMicro);
        Assert.Equal(0, rows[0].Totals.RedeemedMicro);
    }

    [SkippableFact]
    public async Task Redis_counters_add_a_batch_once_however_often_it_is_sent()
    {
        RunningRedis.Require();
        await using var redis = await RunningRedis.StartAsync();
        using var connection = await ConnectionMultiplexer.ConnectAsync(redis.ConnectionString);
        var counters = new RedisUsageCounters(connection, "t1:");
        var batch = Batch(Closed("acct_a", "TOK-1", "gpt-4o", 5_000), Closed("acct_a", "TOK-1", "gpt-4o", 7_000), Closed("acct_b", null, "m", 1));

        await counters.AddAsync("replica-1:1", batch);
        await counters.AddAsync("replica-1:1", batch); // a retry after a timeout
        await counters.AddAsync("replica-1:2", Batch(Closed("acct_a", "TOK-1", "gpt-4o", 1_000)));

        var rows = await counters.ReadAsync("acct_a");
        var (contract, model, totals) = Assert.Single(rows);
        Assert.Equal(("TOK-1", "gpt-4o"), (contract, model));
        Assert.Equal(3, totals.Requests);
        Assert.Equal(13_000, totals.UnitsMicro);
        Assert.Equal(303, totals.NativeInputTokens);
        Assert.Equal(1, Assert.Single(await counters.ReadAsync("acct_b")).Totals.Requests);
    }

    [SkippableFact]
    public async Task Redis_counters_run_on_a_cluster_and_keep_hostile_model_names_apart()
    {
        RunningRedis.Require();
        await using var cluster = await RunningRedis.StartClusterAsync();
        using var connection = await ConnectionMultiplexer.ConnectAsync(cluster.ConnectionString);
        var counters = new RedisUsageCounters(connection, "t2:");
        // A model name that looks like another field's encoding must not be read as one.
        var hostile = "x|3|abcrequests";
        var accounts = Enumerable.Range(0, 20).Select(i => $"acct_{i:D4}").ToList();
        var records = accounts.Select(a => Closed(a, "C|1", hostile, 10)).Append(Closed(accounts[0], "", "plain", 1)).ToArray();

        await counters.AddAsync("r:1", Batch(records));

        foreach (var account in accounts)
        {
            var rows = await counters.ReadAsync(account);
            var row = rows.Single(r => r.Model == hostile);
            Assert.Equal(("C|1", 1L, 10L), (row.ContractId, row.Totals.Requests, row.Totals.UnitsMicro));
        }

        Assert.Equal(2, (await counters.ReadAsync(accounts[0])).Count);
    }

    [Theory]
    [InlineData("", "")]
    [InlineData("TOK|1", "m|2|x")]
    [InlineData("a", "")]
    public void A_counter_field_parses_back_to_its_contract_and_model(string contract, string model)
    {
        Assert.Equal(("units_micro", contract, model), RedisUsageCounters.Parse(RedisUsageCounters.Field("units_micro", contract, model)));
    }
}
