using MeterAgent.Ledger.Accounts;
using MeterAgent.Ledger.Counters;
using MeterAgent.Ledger.Credits;
using MeterAgent.Ledger.Hosting;
using MeterAgent.Ledger.RateLimits;
using MeterAgent.Ledger.Statements;
using MeterAgent.Ledger.Usage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace MeterAgent.Ledger.Sqlite;

public static class SqliteStoreServiceCollectionExtensions
{
    /// <summary>
    /// Registers the embedded SQLite store as the <see cref="IAccountStore"/>, <see cref="IUsageStore"/> and
    /// <see cref="ICreditLedger"/> singletons, sharing one <see cref="SqliteWriter"/>, with <see cref="SqliteStoreOptions"/>
    /// bound from the configuration section <c>Store</c> and validated at start (keys: <c>Store:Path</c>,
    /// <c>Store:Synchronous</c>, <c>Store:MaxBatchSize</c>, <c>Store:KeyCacheTtl</c>, <c>Store:KeyCacheCapacity</c>,
    /// <c>Store:BusyTimeout</c>, <c>Store:CheckpointInterval</c>,
    /// <c>Store:WalLimitBytes</c>, <c>Store:JournalSegmentBytes</c>, <c>Store:CloseGatherTime</c>; see <see cref="SqliteStoreOptions"/>), the store-neutral
    /// services every backend has (<see cref="StoreServiceCollectionExtensions.AddStoreServices"/>: start-up recovery and
    /// the reservation sweep), the WAL checkpoints, and rate limits: policies in the file (<see cref="SqliteRateLimitPolicyStore"/>)
    /// enforced in process (<see cref="InProcessRateLimiter"/>, unless a limiter is registered first). The container's disposal flushes queued writes and checkpoints the WAL.
    /// </summary>
    public static IServiceCollection AddSqliteStore(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);

        services.AddOptions<SqliteStoreOptions>()
            .BindConfiguration(SqliteStoreOptions.SectionName)
            .ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<SqliteStoreOptions>, SqliteStoreOptionsValidator>());
        services.AddStoreServices();

        services.TryAddSingleton<SqliteDatabase>();
        services.TryAddSingleton<SqliteAccountStore>();
        services.TryAddSingleton<SqliteWriter>();
        services.TryAddSingleton<SqliteUsageStore>();
        services.TryAddSingleton<SqliteCreditLedger>();
        services.TryAddSingleton<IAccountStore>(sp => sp.GetRequiredService<SqliteAccountStore>());
        services.TryAddSingleton<IUsageStore>(sp => sp.GetRequiredService<SqliteUsageStore>());
        services.TryAddSingleton<ICreditLedger>(sp => sp.GetRequiredService<SqliteCreditLedger>());
        services.TryAddSingleton<IUsageLog, SqliteUsageLog>();
        services.TryAddSingleton<IStatementStore, SqliteStatementStore>();
        services.TryAddSingleton<IStoreWriteProbe, SqliteWriteProbe>();
        services.TryAddSingleton<IUsageCounters, SqliteUsageCounters>();
        services.TryAddSingleton<IUsageReports, SqliteUsageReports>();
        services.TryAddSingleton<SqliteRateLimitPolicyStore>();
        services.TryAddSingleton<IRateLimitPolicyStore>(sp => sp.GetRequiredService<SqliteRateLimitPolicyStore>());
        services.AddInProcessRateLimits();
        services.AddHostedService<WalCheckpointService>();
        services.AddHostedService<UsageRollupService>();
        return services;
    }
}
