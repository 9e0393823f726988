using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace MeterAgent.Ledger.RateLimits;

public static class RateLimitServiceCollectionExtensions
{
    /// <summary>
    /// <see cref="RateLimitOptions"/> bound from <c>RateLimits</c> and validated at start (the message names the key).
    /// Every rate limiter registration calls it.
    /// </summary>
    public static IServiceCollection AddRateLimitOptions(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddOptions<RateLimitOptions>().BindConfiguration(RateLimitOptions.Section).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<RateLimitOptions>, RateLimitOptionsValidator>());
        return services;
    }

    /// <summary>
    /// The embedded limiter (<see cref="InProcessRateLimiter"/>) over whichever <see cref="IRateLimitPolicyStore"/> the
    /// store registered, unless a limiter is registered already (a distributed backend's).
    /// </summary>
    public static IServiceCollection AddInProcessRateLimits(this IServiceCollection services)
    {
        services.AddRateLimitOptions();
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<IRateLimiter, InProcessRateLimiter>();
        return services;
    }
}
