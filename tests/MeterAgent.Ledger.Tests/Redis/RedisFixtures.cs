using StackExchange.Redis;

namespace MeterAgent.Ledger.Tests.Redis;

/// <summary>
/// One real Redis (a server, or a three-master cluster) and one multiplexer for a whole collection of test classes:
/// each test gets a fresh key prefix on it (<see cref="OpenStores"/>), so tests stay apart without a server each.
/// </summary>
public abstract class RedisFixture : IAsyncLifetime
{
    private RunningRedis? _server;
    private ConnectionMultiplexer? _multiplexer;

    public RunningRedis Server => _server ?? throw new InvalidOperationException("The Redis fixture has not started.");

    public IConnectionMultiplexer Multiplexer => _multiplexer ?? throw new InvalidOperationException("The Redis fixture has not started.");

    public async Task InitializeAsync()
    {
        // A contract test is a plain [Fact]: without redis-server this fails the collection with the install hint.
        RunningRedis.Require();
        _server = await StartAsync();

        // The property tests run many callers at once on 2 cores while other test assemblies run beside them: with the
        // thread pool at its minimum, replies sat read but unprocessed past the 5 s timeout (StackExchange.Redis's
        // documented thread-pool starvation case). More threads up front, and a timeout for a loaded CI machine.
        ThreadPool.GetMinThreads(out var workers, out var io);
        ThreadPool.SetMinThreads(Math.Max(workers, 32), Math.Max(io, 32));
        var options = ConfigurationOptions.Parse(_server.ConnectionString);
        options.SyncTimeout = options.AsyncTimeout = 30_000;
        _multiplexer = await ConnectionMultiplexer.ConnectAsync(options);
    }

    public async Task DisposeAsync()
    {
        if (_multiplexer is not null)
        {
            await _multiplexer.DisposeAsync();
        }

        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }

    /// <summary>Fresh stores under a key prefix of their own, with a fresh local SQLite store for usage records.</summary>
    internal RedisLedgerStores OpenStores(TimeProvider? time = null) => new(Multiplexer, time);

    protected abstract Task<RunningRedis> StartAsync();
}

public sealed class RedisServerFixture : RedisFixture
{
    protected override Task<RunningRedis> StartAsync() => RunningRedis.StartAsync();
}

public sealed class RedisClusterFixture : RedisFixture
{
    protected override Task<RunningRedis> StartAsync() => RunningRedis.StartClusterAsync();
}

[CollectionDefinition(Name)]
public sealed class RedisServerCollection : ICollectionFixture<RedisServerFixture>
{
    public const string Name = "redis server";
}

[CollectionDefinition(Name)]
public sealed class RedisClusterCollection : ICollectionFixture<RedisClusterFixture>
{
    public const string Name = "redis cluster";
}
