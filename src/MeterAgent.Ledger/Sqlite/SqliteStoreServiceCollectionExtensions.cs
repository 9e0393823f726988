using MeterAgent.Ledger.Accounts;
using MeterAgent.Ledger.Usage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace MeterAgent.Ledger.Sqlite;

public static class SqliteStoreServiceCollectionExtensions
{
    /// <summary>
    /// Registers the embedded SQLite store as the <see cref="IAccountStore"/> and <see cref="IUsageStore"/> singletons,
    /// with <see cref="SqliteStoreOptions"/> bound from the configuration section <c>Store</c> and validated at start
    /// (keys: <c>Store:Path</c>, <c>Store:Synchronous</c>, <c>Store:MaxBatchSize</c>, <c>Store:KeyCacheTtl</c>,
    /// <c>Store:KeyCacheCapacity</c>, <c>Store:BusyTimeout</c>; see <see cref="SqliteStoreOptions"/>). Also registers a
    /// hosted service that closes records a previous run left open (<see cref="IUsageStore.RecoverOpenAsync"/>) at start.
    /// The container's disposal flushes queued writes (<see cref="SqliteWriter"/>) and checkpoints the WAL.
    /// </summary>
    public static IServiceCollection AddSqliteStore(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);

        services.AddOptions<SqliteStoreOptions>()
            .BindConfiguration(SqliteStoreOptions.SectionName)
            .ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<SqliteStoreOptions>, SqliteStoreOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);

        services.TryAddSingleton<SqliteDatabase>();
        services.TryAddSingleton<SqliteAccountStore>();
        services.TryAddSingleton<SqliteWriter>();
        services.TryAddSingleton<SqliteUsageStore>();
        services.TryAddSingleton<IAccountStore>(sp => sp.GetRequiredService<SqliteAccountStore>());
        services.TryAddSingleton<IUsageStore>(sp => sp.GetRequiredService<SqliteUsageStore>());
        services.AddHostedService<UsageRecoveryService>();
        return services;
    }
}
