using System.Net.Http.Headers;
using MeterAgent.Attestation.Checkpoints;
using MeterAgent.Attestation.Entries;
using MeterAgent.Attestation.Notes;
using MeterAgent.Ledger.Redis.Log;
using MeterAgent.Ledger.Usage;
using MeterAgent.Log;
using Microsoft.Extensions.DependencyInjection;
using StackExchange.Redis;

namespace MeterAgent.IntegrationTests;

/// <summary>
/// Distributed mode's attestation log end to end: two agents, each on its own SQLite store, share one Redis. Each
/// ships its records; the lease holder appends and signs; either serves the log, and `meteragent verify` passes over
/// it. The holder stops; the other takes over and continues the same log.
/// </summary>
public sealed class RedisLogTests : IAsyncLifetime
{
    private const string ReadToken = "clearing-house-read-token-for-tests";
    private readonly TempFolder _folder = new("meteragent-redis-log-");
    private readonly List<IConnectionMultiplexer> _connections = [];
    private NoteKeyPair _key = null!;
    private RunningRedis _redis = null!;

    public async Task InitializeAsync()
    {
        _key = NoteKeyPair.Generate("meteragent.test/log");
        RunningRedis.Require();
        _redis = await RunningRedis.StartAsync();
    }

    public async Task DisposeAsync()
    {
        foreach (var connection in _connections)
        {
            await connection.DisposeAsync();
        }

        await _redis.DisposeAsync();
        _folder.Dispose();
    }

    private async Task<TestAgent> StartAsync(string replicaId)
    {
        var connection = await ConnectionMultiplexer.ConnectAsync(_redis.ConnectionString);
        _connections.Add(connection);
        return await TestAgent.StartAsync(
            settings: new Dictionary<string, string?>
            {
                ["Attestation:SigningKeyPath"] = _folder.Write(replicaId + ".skey", _key.SignerKey),
                ["Attestation:ReadToken"] = ReadToken,
                ["Attestation:CheckpointInterval"] = "00:00:01",
                ["Redis:KeyPrefix"] = "it:",
                ["Redis:ReplicaId"] = replicaId,
                ["Redis:LogLeaseTtl"] = "00:00:01.500",
            },
            services: services =>
            {
                services.AddSingleton<IConnectionMultiplexer>(connection);
                services.AddRedisLog();
            });
    }

    private static async Task ChatAsync(TestAgent agent, int count)
    {
        for (var i = 0; i < count; i++)
        {
            using var request = agent.OpenAIRequest("v1/chat/completions", """{"model":"emu-chat","max_tokens":8,"messages":[{"role":"user","content":"log me"}]}""");
            using var response = await agent.Http.SendAsync(request);
            await agent.RecordForAsync(response);
        }
    }

    private async Task<Checkpoint> CheckpointAsync(TestAgent agent, long size)
    {
        using var management = new HttpClient { BaseAddress = new Uri(agent.ManagementUrl) };
        management.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", ReadToken);
        return await Eventually.ThatAsync(
            async () =>
            {
                using var response = await management.GetAsync("log/checkpoint");
                if (!response.IsSuccessStatusCode)
                {
                    return null;
                }

                var note = SignedNote.Open(await response.Content.ReadAsByteArrayAsync(), new NoteVerifiers(NoteVerifier.Parse(_key.VerifierKey)));
                return Checkpoint.Parse(note.Text);
            },
            c => c is not null && c.TreeSize == size,
            $"{agent.ManagementUrl} serves a checkpoint of size {size}") ?? throw new InvalidOperationException("no checkpoint");
    }

    private async Task VerifyAsync(TestAgent agent)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var exit = await MeterAgent.Verify.MeterAgentTool.RunAsync(
            ["verify", "--log", agent.ManagementUrl.TrimEnd('/'), "--key", _key.VerifierKey, "--token", ReadToken], stdout, stderr);
        Assert.True(exit == 0, stdout + "\n" + stderr);
    }

    [SkippableFact]
    public async Task Two_agents_share_one_log_either_serves_it_and_after_the_holder_stops_the_other_continues_it()
    {
        await using var a = await StartAsync("replica-a");
        await using var b = await StartAsync("replica-b");
        await Eventually.TrueAsync(() => Task.FromResult(Lease(a).IsHolder || Lease(b).IsHolder), "one replica holds the log lease");
        Assert.False(Lease(a).IsHolder && Lease(b).IsHolder);

        await ChatAsync(a, 3);
        await ChatAsync(b, 3);

        // Either replica serves the same signed checkpoint over the six records, and the log verifies through either.
        var fromA = await CheckpointAsync(a, 6);
        var fromB = await CheckpointAsync(b, 6);
        Assert.Equal(fromA.RootHash.ToArray(), fromB.RootHash.ToArray());
        await VerifyAsync(a);
        await VerifyAsync(b);

        // The holder stops (it gives the lease up); the other takes over and continues the same log.
        var (holder, other) = Lease(a).IsHolder ? (a, b) : (b, a);
        await holder.StopAsync();
        await Eventually.TrueAsync(() => Task.FromResult(Lease(other).IsHolder), "the other replica takes the lease");
        await ChatAsync(other, 3);
        await CheckpointAsync(other, 9);
        await VerifyAsync(other);

        var entries = await other.Services.GetRequiredService<IUsageLog>().ReadAsync(0, 100);
        var decoded = entries.Select(e => UsageEntryEncoding.Decode(e)).ToList();
        Assert.Equal(9, decoded.Select(e => e.UsageId).Distinct().Count());
        Assert.Equal(3, decoded.Count(e => e.AccountId == holder.AccountId));
        Assert.Equal(6, decoded.Count(e => e.AccountId == other.AccountId));
    }

    private static RedisLogLease Lease(TestAgent agent) => agent.Services.GetRequiredService<RedisLogLease>();
}
