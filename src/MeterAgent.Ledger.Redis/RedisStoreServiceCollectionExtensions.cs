using MeterAgent.Ledger.Accounts;
using MeterAgent.Ledger.Availability;
using MeterAgent.Ledger.Credits;
using MeterAgent.Ledger.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace MeterAgent.Ledger.Redis;

public static class RedisStoreServiceCollectionExtensions
{
    /// <summary>
    /// Distributed mode: <see cref="IAccountStore"/> and <see cref="ICreditLedger"/> from Redis (shared by every
    /// replica), on one <see cref="RedisConnection"/> singleton with <see cref="RedisStoreOptions"/> bound from the
    /// section <c>Redis</c> and validated at start; everything else from the replica's local SQLite store
    /// (<see cref="SqliteStoreServiceCollectionExtensions.AddSqliteStore"/>: usage records, the usage log, statements,
    /// recovery, the reservation sweep, which now sweeps Redis). The SQLite registrations are <c>TryAdd</c>s, so this
    /// adds them first and then replaces the two it serves itself; call it instead of <c>AddSqliteStore</c>, not after it.
    /// </summary>
    public static IServiceCollection AddRedisStore(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);

        services.AddSqliteStore();
        services.AddOptions<RedisStoreOptions>()
            .BindConfiguration(RedisStoreOptions.SectionName)
            .ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<RedisStoreOptions>, RedisStoreOptionsValidator>());

        services.TryAddSingleton(sp => new RedisConnection(sp.GetRequiredService<IOptions<RedisStoreOptions>>()));
        services.TryAddSingleton(sp =>
        {
            var options = sp.GetRequiredService<IOptions<RedisStoreOptions>>().Value;
            return new RedisAccountStore(sp.GetRequiredService<RedisConnection>(), sp.GetRequiredService<TimeProvider>(), options.KeyCacheTtl, options.KeyCacheCapacity)
            {
                Availability = sp.GetRequiredService<RedisAvailability>(),
            };
        });
        services.TryAddSingleton<RedisAvailability>();
        services.TryAddSingleton(sp => new SqliteSettleOutbox(sp.GetRequiredService<SqliteWriter>(), sp.GetRequiredService<SqliteDatabase>()));
        services.TryAddSingleton(sp => new FailOpenLease(
            sp.GetRequiredService<IOptions<RedisStoreOptions>>().Value.FailOpenLease * RedisStoreOptions.FailOpenLeaseMicroPerUnit));
        services.TryAddSingleton(sp => new RedisCreditLedger(
            sp.GetRequiredService<RedisConnection>(), sp.GetRequiredService<SqliteUsageStore>(), sp.GetRequiredService<SqliteSettleOutbox>(),
            sp.GetRequiredService<RedisAvailability>(), sp.GetRequiredService<ILogger<RedisCreditLedger>>(),
            sp.GetRequiredService<FailOpenLease>()));
        services.Replace(ServiceDescriptor.Singleton<IAccountStore>(sp => sp.GetRequiredService<RedisAccountStore>()));
        services.Replace(ServiceDescriptor.Singleton<ICreditLedger>(sp => sp.GetRequiredService<RedisCreditLedger>()));
        services.Replace(ServiceDescriptor.Singleton<IStoreAvailability>(sp => sp.GetRequiredService<RedisAvailability>()));
        services.AddHostedService<SettleOutboxService>();
        return services;
    }
}
