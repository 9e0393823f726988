using MeterAgent.Ledger.Availability;
using MeterAgent.Ledger.Credits;
using MeterAgent.Ledger.Usage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace MeterAgent.Ledger.Hosting;

public static class StoreServiceCollectionExtensions
{
    /// <summary>
    /// What every backend registers alongside its <see cref="IUsageStore"/> and <see cref="ICreditLedger"/>:
    /// <see cref="StoreOptions"/> bound from the section <c>Store</c> and validated at start, and the hosted services
    /// that close records a previous run left open (<see cref="IUsageStore.RecoverOpenAsync"/>) at start and release
    /// expired reservations (<see cref="ICreditLedger.ExpireAsync"/>) at start and then every
    /// <see cref="StoreOptions.ReservationSweepInterval"/>. Safe to call more than once.
    /// </summary>
    public static IServiceCollection AddStoreServices(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);

        services.AddOptions<StoreOptions>()
            .BindConfiguration(StoreOptions.SectionName)
            .ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<StoreOptions>, StoreOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);

        // Nothing shared to lose unless a backend with a shared store says otherwise (Redis replaces it).
        services.TryAddSingleton<IStoreAvailability>(AlwaysAvailable.Instance);
        services.AddHostedService<UsageRecoveryService>();
        services.AddHostedService<ReservationExpiryService>();
        return services;
    }
}
