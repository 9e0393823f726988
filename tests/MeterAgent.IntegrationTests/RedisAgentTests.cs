namespace MeterAgent.IntegrationTests;

/// <summary>
/// What the in-process distributed-mode tests share: a real redis-server and a clearing house for the class, and the
/// settings that point an agent at them (<c>Store:Kind=redis</c>, one key prefix per class, a replica id per agent).
/// </summary>
public abstract class RedisAgentTests : IAsyncLifetime
{
    /// <summary>Connection options that notice an outage in 2 s rather than the client's default 5.</summary>
    protected const string QuickTimeouts = ",connectTimeout=2000,syncTimeout=2000,asyncTimeout=2000";

    protected RunningRedis Redis { get; private set; } = null!;

    protected ClearingHouse House { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        RunningRedis.Require();
        Redis = await RunningRedis.StartAsync();
        House = ClearingHouse.Create();
    }

    public async Task DisposeAsync()
    {
        await Redis.DisposeAsync();
        House.Dispose();
    }

    /// <summary>The clearing house's settings plus distributed mode on this class's Redis, as replica <paramref name="replica"/>.</summary>
    protected Dictionary<string, string?> RedisSettings(string keyPrefix, string replica, string connectionOptions = "") =>
        new(House.AgentSettings())
        {
            ["Store:Kind"] = "redis",
            ["Redis:ConnectionString"] = Redis.ConnectionString + connectionOptions,
            ["Redis:KeyPrefix"] = keyPrefix,
            ["Redis:ReplicaId"] = replica,
        };
}
