using MeterAgent.Ledger.Redis.Log;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace MeterAgent.Log;

/// <summary>Distributed mode's attestation log (docs/distributed-log.md).</summary>
public static class RedisLogRegistration
{
    /// <summary>
    /// Moves the usage log and the statements to Redis, after the agent's own registrations (the SQLite store included:
    /// its log stays this replica's outbox). Expects an <c>IConnectionMultiplexer</c> singleton; settings from section
    /// <c>Redis</c> (<c>KeyPrefix</c>, <c>ReplicaId</c>, <c>LogLeaseTtl</c>). Replaces <c>IUsageLog</c> (local append
    /// and shipping, shared reads) and <c>IStatementStore</c>; adds the lease, the shipper, the holder's appender, the
    /// shared checkpoint and the follower. Only the lease holder signs checkpoints and closes statements.
    /// </summary>
    public static IServiceCollection AddRedisLog(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddRedisLogStore();
        services.Replace(ServiceDescriptor.Singleton<ISharedCheckpoints, RedisSharedCheckpoints>());
        services.AddHostedService<SharedLogFollower>();
        return services;
    }
}
