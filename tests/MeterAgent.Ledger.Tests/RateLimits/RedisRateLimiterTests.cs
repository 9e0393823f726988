using MeterAgent.Ledger.Redis.RateLimits;
using MeterAgent.Ledger.RateLimits;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace MeterAgent.Ledger.Tests.RateLimits;

/// <summary>
/// One real redis-server for the class (started on first use), a connection per replica, a key prefix per test. An
/// <see cref="IAsyncLifetime"/>: xunit 2 disposes a fixture through it (a plain IAsyncDisposable fixture left its
/// servers running after the run).
/// </summary>
public sealed class RedisServerFixture : IAsyncLifetime
{
    private readonly SemaphoreSlim _starting = new(1, 1);
    private RunningRedis? _redis;

    public bool Cluster { get; init; }

    public async Task<RunningRedis> GetAsync()
    {
        RunningRedis.Require();
        await _starting.WaitAsync();
        try
        {
            return _redis ??= Cluster ? await RunningRedis.StartClusterAsync() : await RunningRedis.StartAsync();
        }
        finally
        {
            _starting.Release();
        }
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        if (_redis is not null)
        {
            await _redis.DisposeAsync();
        }

        _starting.Dispose();
    }
}

public sealed class RedisClusterFixture() : IAsyncLifetime
{
    public RedisServerFixture Server { get; } = new() { Cluster = true };

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync() => Server.DisposeAsync();
}

/// <summary>Two replicas' limiters, each on its own connection, sharing one Redis.</summary>
internal sealed class RedisHarness(ConnectionMultiplexer first, ConnectionMultiplexer second) : RateLimitHarness
{
    public static async Task<RateLimitHarness> OpenAsync(RedisServerFixture fixture, TimeProvider clock, RateLimitOptions? options)
    {
        var redis = await fixture.GetAsync();
        var prefix = "t" + Guid.NewGuid().ToString("N")[..8] + ":";
        var first = await ConnectionMultiplexer.ConnectAsync(redis.ConnectionString);
        var second = await ConnectionMultiplexer.ConnectAsync(redis.ConnectionString);
        var wrapped = Options.Create(options ?? new RateLimitOptions());
        // The policy store is the first replica's, as the host wires it: a policy set there applies there at once.
        var limiter = new RedisRateLimiter(first, wrapped, clock, prefix);
        return new RedisHarness(first, second)
        {
            Limiter = limiter,
            Replica = new RedisRateLimiter(second, wrapped, clock, prefix),
            Policies = new RedisRateLimitPolicyStore(first, prefix, limiter),
        };
    }

    public override Task<string> NewAccountAsync() => Task.FromResult("acct_" + Guid.NewGuid().ToString("N")[..16]);

    public override async ValueTask DisposeAsync()
    {
        await first.DisposeAsync();
        await second.DisposeAsync();
    }
}

public sealed class RedisRateLimiterTests(RedisServerFixture fixture) : RateLimiterContract, IClassFixture<RedisServerFixture>
{
    protected override Task<RateLimitHarness> OpenAsync(RateLimitOptions? options = null) => RedisHarness.OpenAsync(fixture, Clock, options);

    [SkippableFact]
    public async Task An_account_with_no_limit_costs_no_round_trip_and_a_limit_set_on_another_replica_applies_within_the_memory_time()
    {
        await using var rl = await OpenAsync();
        var account = await rl.NewAccountAsync();
        Assert.Same(RateLimitDecision.Unlimited, await rl.Replica.AcquireAsync(account, KeyId, 10));
        Assert.False(rl.Replica.MayLimitTokens(account, KeyId)); // remembered: the next request makes no call

        await rl.Policies.SetAsync(RateLimitSubject.Account(account), new RateLimitPolicy(100, null)); // on the first replica
        Assert.Equal(100, (await rl.Limiter.AcquireAsync(account, KeyId, 10)).Tokens!.Value.Limit); // there, at once
        Assert.Same(RateLimitDecision.Unlimited, await rl.Replica.AcquireAsync(account, KeyId, 10)); // the other, not yet

        Clock.Advance(RedisRateLimiter.DefaultUnlimitedMemory);
        Assert.True(rl.Replica.MayLimitTokens(account, KeyId));
        // The shared bucket: 90 left after the first replica's 10, 8 back over 5 s at 100 a minute, then this one's 10.
        Assert.Equal(88, (await rl.Replica.AcquireAsync(account, KeyId, 10)).Tokens!.Value.Remaining);
    }

    [SkippableFact]
    public async Task Buckets_expire_once_drained_and_the_policies_stay()
    {
        await using var rl = await OpenAsync();
        var account = await rl.NewAccountAsync();
        await rl.Policies.SetAsync(RateLimitSubject.Account(account), new RateLimitPolicy(60_000, null));
        Assert.True((await rl.Limiter.AcquireAsync(account, "key_1", 1000)).Allowed);

        var redis = await fixture.GetAsync();
        var ttls = await redis.CliAsync("--scan", "--pattern", "*" + account + "*");
        Assert.Contains(":rl:acct", ttls, StringComparison.Ordinal);
        Assert.Contains(":rl:policy", ttls, StringComparison.Ordinal);

        // 1000 tokens drain in one second at 60,000 a minute: the bucket lives that long plus a minute, no more.
        using var connection = await ConnectionMultiplexer.ConnectAsync(redis.ConnectionString);
        var keys = ttls.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var bucketTtl = await connection.GetDatabase().KeyTimeToLiveAsync(keys.Single(k => k.EndsWith(":rl:acct", StringComparison.Ordinal)));
        Assert.InRange(bucketTtl!.Value, TimeSpan.FromSeconds(55), TimeSpan.FromSeconds(61));
        Assert.Null(await connection.GetDatabase().KeyTimeToLiveAsync(keys.Single(k => k.EndsWith(":rl:policy", StringComparison.Ordinal))));
    }
}

public sealed class RedisClusterRateLimiterTests(RedisClusterFixture fixture) : RateLimiterContract, IClassFixture<RedisClusterFixture>
{
    protected override Task<RateLimitHarness> OpenAsync(RateLimitOptions? options = null) => RedisHarness.OpenAsync(fixture.Server, Clock, options);
}
