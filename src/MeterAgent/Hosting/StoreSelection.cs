using MeterAgent.Ledger.Accounts;
using MeterAgent.Ledger.Credits;
using MeterAgent.Ledger.Hosting;
using MeterAgent.Ledger.RateLimits;
using MeterAgent.Ledger.Sqlite;
using MeterAgent.Ledger.Usage;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace MeterAgent.Hosting;

/// <summary>Registers the store backend <c>Store:Kind</c> names; only the host knows every backend.</summary>
public static class StoreSelection
{
    // Matched ignoring case: "SQLite" in a config file means the same store.
    private static readonly Dictionary<string, Func<IServiceCollection, IServiceCollection>> Backends = new(StringComparer.OrdinalIgnoreCase)
    {
        [StoreOptions.DefaultKind] = services => services.AddSqliteStore(),
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
            return add(services);
        }

        // No backend to register. The hosted services are resolved before the start-up validation runs, so a service
        // that needs the store would fail first with a container error; asking for the options instead fails with the
        // validator's message, whichever comes first.
        services.AddStoreServices();
        services.TryAddSingleton<IAccountStore>(Unconfigured<IAccountStore>);
        services.TryAddSingleton<IUsageStore>(Unconfigured<IUsageStore>);
        services.TryAddSingleton<ICreditLedger>(Unconfigured<ICreditLedger>);
        services.TryAddSingleton<IUsageLog>(Unconfigured<IUsageLog>);
        services.TryAddSingleton<IStoreWriteProbe>(Unconfigured<IStoreWriteProbe>);
        services.TryAddSingleton<IRateLimitPolicyStore>(Unconfigured<IRateLimitPolicyStore>);
        services.TryAddSingleton<IRateLimiter>(Unconfigured<IRateLimiter>);
        return services;
    }

    private static T Unconfigured<T>(IServiceProvider services)
    {
        _ = services.GetRequiredService<IOptions<StoreOptions>>().Value;
        throw new InvalidOperationException($"No store backend is registered for {typeof(T).Name}, yet {StoreOptions.SectionName}:{nameof(StoreOptions.Kind)} passed validation.");
    }
}
