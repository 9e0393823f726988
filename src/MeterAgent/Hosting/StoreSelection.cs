using MeterAgent.Ledger.Accounts;
using MeterAgent.Ledger.Counters;
using MeterAgent.Ledger.Credits;
using MeterAgent.Ledger.Hosting;
using MeterAgent.Ledger.RateLimits;
using MeterAgent.Ledger.Redis;
using MeterAgent.Ledger.Redis.Counters;
using MeterAgent.Ledger.Redis.RateLimits;
using MeterAgent.Ledger.Sqlite;
using MeterAgent.Ledger.Usage;
using MeterAgent.Health;
using MeterAgent.Log;
using MeterAgent.Observability;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace MeterAgent.Hosting;

/// <summary>Registers the store backend <c>Store:Kind</c> names; only the host knows every backend.</summary>
public static class StoreSelection
{
    // Matched ignoring case: "SQLite" in a config file means the same store.
    private static readonly Dictionary<string, Func<IServiceCollection, IConfiguration, IServiceCollection>> Backends = new(StringComparer.OrdinalIgnoreCase)
    {
        [StoreOptions.DefaultKind] = (services, _) => services.AddSqliteStore(),
        ["redis"] = AddRedis,
    };

    /// <summary>The kinds <c>Store:Kind</c> accepts, for the validator's message.</summary>
    public static IReadOnlyCollection<string> KnownKinds => Backends.Keys;

    public static bool IsKnown(string? kind) => kind is not null && Backends.ContainsKey(kind.Trim());

    /// <summary>
    /// Registers the backend <c>Store:Kind</c> names (default <c>sqlite</c>) as the <see cref="IAccountStore"/>,
    /// <see cref="IUsageStore"/> and <see cref="ICreditLedger"/>, with the store-neutral services. An unknown kind stops
    /// start-up with a message naming <c>Store:Kind</c> and the known kinds.
    /// </summary>
    public static IServiceCollection AddStore(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);

        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<StoreOptions>, StoreKindValidator>());
        var kind = configuration.GetSection(StoreOptions.SectionName)[nameof(StoreOptions.Kind)] ?? StoreOptions.DefaultKind;
        if (Backends.TryGetValue(kind.Trim(), out var add))
        {
            return add(services, configuration);
        }

        // No backend to register. The hosted services are resolved before the start-up validation runs, so a service
        // that needs the store would fail first with a container error; asking for the options instead fails with the
        // validator's message, whichever comes first.
        services.AddStoreServices();
        services.TryAddSingleton<IAccountStore>(Unconfigured<IAccountStore>);
        services.TryAddSingleton<IUsageStore>(Unconfigured<IUsageStore>);
        services.TryAddSingleton<IUsageReports>(Unconfigured<IUsageReports>);
        services.TryAddSingleton<ICreditLedger>(Unconfigured<ICreditLedger>);
        services.TryAddSingleton<IUsageLog>(Unconfigured<IUsageLog>);
        services.TryAddSingleton<IStoreWriteProbe>(Unconfigured<IStoreWriteProbe>);
        services.TryAddSingleton<IRateLimitPolicyStore>(Unconfigured<IRateLimitPolicyStore>);
        services.TryAddSingleton<IRateLimiter>(Unconfigured<IRateLimiter>);
        return services;
    }

    /// <summary>
    /// Distributed mode (docs/distributed.md): accounts, keys, credits, live counters and the attestation log in Redis,
    /// shared by every replica; usage records written ahead in this replica's local SQLite store and shipped from it.
    /// </summary>
    private static IServiceCollection AddRedis(IServiceCollection services, IConfiguration configuration)
    {
        var prefix = configuration.GetSection(RedisStoreOptions.SectionName)[nameof(RedisStoreOptions.KeyPrefix)] ?? RedisStoreOptions.DefaultKeyPrefix;
        services.AddRedisStore();
        services.TryAddSingleton<IConnectionMultiplexer>(sp => sp.GetRequiredService<RedisConnection>().Multiplexer);
        services.Replace(ServiceDescriptor.Singleton<IUsageCounters>(sp =>
            new RedisUsageCounters(sp.GetRequiredService<IConnectionMultiplexer>(), sp.GetRequiredService<IOptions<RedisStoreOptions>>().Value.KeyPrefix)));
        services.AddRedisLog();
        services.AddRedisRateLimits(prefix);

        // Redis unavailable (docs/distributed.md): readiness and the outage gauges.
        services.AddHealthChecks().AddCheck<RedisHealthCheck>("redis", tags: [HealthServiceCollectionExtensions.Ready]);
        services.AddHostedService<RedisOutageGauges>();
        return services;
    }

    private static T Unconfigured<T>(IServiceProvider services)
    {
        _ = services.GetRequiredService<IOptions<StoreOptions>>().Value;
        throw new InvalidOperationException($"No store backend is registered for {typeof(T).Name}, yet {StoreOptions.SectionName}:{nameof(StoreOptions.Kind)} passed validation.");
    }
}
