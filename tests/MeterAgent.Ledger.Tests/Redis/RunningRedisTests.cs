namespace MeterAgent.Ledger.Tests.Redis;

/// <summary>The test kit's Redis fixtures start what the distributed tests rely on: a server that survives an outage with its data, and a cluster.</summary>
public sealed class RunningRedisTests
{
    [SkippableFact]
    public async Task A_server_keeps_its_data_across_an_outage()
    {
        RunningRedis.Require();
        await using var redis = await RunningRedis.StartAsync();
        Assert.Contains("OK", await redis.CliAsync("set", "k", "v"), StringComparison.Ordinal);
        await redis.CliAsync("config", "set", "appendfsync", "always"); // so the write is on disk before the kill
        Assert.Contains("OK", await redis.CliAsync("set", "k2", "v2"), StringComparison.Ordinal);
        await redis.StopAsync();
        await redis.StartAgainAsync();
        Assert.Equal("v2", (await redis.CliAsync("get", "k2")).Trim());
    }

    [SkippableFact]
    public async Task A_cluster_of_three_masters_covers_every_slot()
    {
        RunningRedis.Require();
        await using var cluster = await RunningRedis.StartClusterAsync();
        var info = await cluster.CliAsync("cluster", "info");
        Assert.Contains("cluster_slots_assigned:16384", info, StringComparison.Ordinal);
        Assert.Contains("cluster_known_nodes:3", info, StringComparison.Ordinal);
    }
}
