using System.Text.Json;
using MeterAgent.Emulator;
using MeterAgent.Metering.Tokenization;

namespace MeterAgent.IntegrationTests.Distributed;

/// <summary>
/// Three MeterAgent processes on one Redis (a single server, then a three-master Redis Cluster), one account whose thin
/// lot covers only part of a burst of concurrent streams sent through all three proxy ports with the official OpenAI
/// SDK. Every figure is checked exactly: the ledger against the records and the shared log, the log against what the
/// clients were given.
/// </summary>
[Collection(DistributedCollection.Name)]
public sealed class SharedLoadTests
{
    private const int Requests = 48;
    private const int MaxTokens = 48;

    /// <summary>Each stream reserves its input + 2 x 48 units (output weighs 2): 1,200 units hold about eleven at once.</summary>
    private const decimal Delivered = 1200m;

    [SkippableFact]
    public async Task Three_replicas_on_one_redis_redeem_within_the_lot_and_every_record_is_logged_once_as_the_clients_saw_it()
    {
        RunningRedis.Require();
        await using var redis = await RunningRedis.StartAsync();
        await RunAsync(redis);
    }

    [SkippableFact]
    public async Task Three_replicas_on_a_three_master_redis_cluster_redeem_within_the_lot_and_every_record_is_logged_once_as_the_clients_saw_it()
    {
        RunningRedis.Require();
        await using var redis = await RunningRedis.StartClusterAsync();
        await RunAsync(redis);
    }

    internal static int Count(string text) => ReferenceTokenizer.Instance.CountTokens(text);

    internal static long Long(JsonElement record, string name) =>
        record.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number ? value.GetInt64() : 0;

    private static async Task RunAsync(RunningRedis redis)
    {
        using var house = ClearingHouse.Create();
        await using var emulator = await RunningEmulator.StartAsync(new EmulatorOptions { RequiredApiKey = TestAgent.UpstreamKey, TokensPerSecond = 200 });
        await using var replicas = await ReplicaSet.StartAsync(redis, emulator, house, 3);
        var (accountId, key) = await replicas.AccountAsync(Delivered);

        // All at once, spread over the three proxy ports.
        var go = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var calls = Enumerable.Range(0, Requests)
            .Select(i => Task.Run(async () =>
            {
                await go.Task;
                return await replicas.StreamAsync(i % 3, key, $"Stream number {i} through replica {i % 3}.", MaxTokens);
            }))
            .ToArray();
        go.SetResult();
        var outcomes = await Task.WhenAll(calls);

        Assert.All(outcomes, o => Assert.True(o.Status is 200 or 402 && o.UsageId is not null, $"replica {o.Replica} answered {o.Status} (usage id {o.UsageId})\n{replicas.Output}"));
        Assert.All(outcomes.Where(o => o.Status == 200), o => Assert.True(o.Completed, "a served stream did not finish"));
        var served = outcomes.Count(o => o.Status == 200);
        Assert.True(served > 0 && served < Requests, $"{served} of {Requests} served: the lot should cover some, not all");
        Assert.Equal(Requests, outcomes.Select(o => o.UsageId).Distinct().Count());

        // Every request has one closed record, on the replica that served it.
        var records = await replicas.ClosedRecordsAsync(Requests);
        Assert.Equal(
            outcomes.Select(o => o.UsageId!).Order(StringComparer.Ordinal),
            records.Select(r => r.GetProperty("id").GetString()!).Order(StringComparer.Ordinal));
        foreach (var replica in Enumerable.Range(0, 3))
        {
            Assert.Equal(
                outcomes.Where(o => o.Replica == replica).Select(o => o.UsageId!).Order(StringComparer.Ordinal),
                (await replicas.RecordsAsync(replica)).Select(r => r.GetProperty("id").GetString()!).Order(StringComparer.Ordinal));
        }

        // The shared log holds each of them exactly once, whichever replica served it; every replica serves it.
        var entries = await replicas.LogEntriesAsync(0, Requests);
        var byId = entries.ToDictionary(e => e.UsageId);
        Assert.Equal(Requests, byId.Count);
        var root = (await replicas.CheckpointAsync(0))!.RootHash.ToArray();
        foreach (var replica in new[] { 1, 2 })
        {
            var checkpoint = await Eventually.ThatAsync(() => replicas.CheckpointAsync(replica), c => c?.TreeSize == Requests, $"replica {replica} serves the same checkpoint");
            Assert.Equal(root, checkpoint!.RootHash.ToArray());
        }

        // What the log says each request produced is what its client received, token for token.
        foreach (var outcome in outcomes)
        {
            var entry = byId[outcome.UsageId!];
            Assert.Equal(outcome.Status == 200 ? "completed" : "rejected", entry.Status);
            Assert.Equal(Count(outcome.Text), entry.ReferenceOutputTokens);
        }

        Assert.Equal(outcomes.Sum(o => (long)Count(o.Text)), entries.Sum(e => e.ReferenceOutputTokens));
        Assert.Equal(records.Sum(r => Long(r, "reference_output_tokens")), entries.Sum(e => e.ReferenceOutputTokens));

        // The ledger: never more redeemed than delivered, nothing left pending, and the records and the log add up to
        // exactly what the lot says was redeemed.
        var lot = await replicas.LotAsync(accountId);
        Assert.Equal((long)(Delivered * 1_000_000m), lot.Delivered);
        Assert.Equal(0, lot.Pending);
        Assert.True(lot.Redeemed > 0 && lot.Redeemed <= lot.Delivered, $"redeemed {lot.Redeemed} of {lot.Delivered}");
        Assert.Equal(lot.Delivered, lot.Available + lot.Redeemed);
        Assert.Equal(lot.Redeemed, entries.Sum(e => e.RedeemedMicro));
        Assert.Equal(lot.Redeemed, records.Sum(r => Long(r, "redeemed_micro")));
        Assert.Equal(0, entries.Sum(e => e.OverageMicro));

        await replicas.VerifyAsync(1);
    }
}
