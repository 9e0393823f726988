using MeterAgent.Ledger.Sqlite;
using MeterAgent.Ledger.Statements;
using MeterAgent.Ledger.Usage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace MeterAgent.Ledger.Redis.Log;

public static class RedisLogServiceCollectionExtensions
{
    /// <summary>
    /// The shared attestation log's store side over the registered <c>IConnectionMultiplexer</c>, with
    /// <see cref="RedisLogOptions"/> bound from section <c>Redis</c>: the lease, the shipper (this replica's local log to
    /// the stream), the holder's appender (the stream to the shared log), and <see cref="IUsageLog"/> and
    /// <see cref="IStatementStore"/> over the shared log, replacing the local ones. Expects the SQLite store registered
    /// (<c>AddSqliteStore</c>): its log stays the replica's outbox.
    /// </summary>
    public static IServiceCollection AddRedisLogStore(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddOptions<RedisLogOptions>().BindConfiguration(RedisLogOptions.SectionName).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<RedisLogOptions>, RedisLogOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton(sp => new RedisLogKeys(sp.GetRequiredService<IOptions<RedisLogOptions>>().Value.KeyPrefix));
        services.TryAddSingleton<SqliteUsageLog>();
        services.TryAddSingleton<RedisLogLease>();
        services.TryAddSingleton<RecordShipper>();
        services.TryAddSingleton<SharedLogAppender>();
        services.TryAddSingleton<RedisCheckpoints>();
        services.AddHostedService(sp => sp.GetRequiredService<RedisLogLease>());
        services.AddHostedService(sp => sp.GetRequiredService<RecordShipper>());
        services.AddHostedService(sp => sp.GetRequiredService<SharedLogAppender>());
        services.Replace(ServiceDescriptor.Singleton<IUsageLog, RedisUsageLog>());
        services.Replace(ServiceDescriptor.Singleton<IStatementStore, RedisStatementStore>());
        return services;
    }
}
