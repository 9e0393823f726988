using MeterAgent.Ledger.RateLimits;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace MeterAgent.Ledger.Redis.RateLimits;

public static class RedisRateLimitServiceCollectionExtensions
{
    /// <summary>
    /// Rate limits in Redis, shared by every replica: <see cref="RedisRateLimiter"/> and <see cref="RedisRateLimitPolicyStore"/>
    /// replace whatever limiter and policy store were registered (the embedded store's), in either order of calls. Needs
    /// an <see cref="IConnectionMultiplexer"/> in the container; <paramref name="keyPrefix"/> goes before every key.
    /// </summary>
    public static IServiceCollection AddRedisRateLimits(this IServiceCollection services, string keyPrefix = "")
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(keyPrefix);
        services.AddRateLimitOptions();
        services.TryAddSingleton(TimeProvider.System);
        services.RemoveAll<IRateLimiter>();
        services.RemoveAll<IRateLimitPolicyStore>();
        services.RemoveAll<RedisRateLimiter>();

        // A replica trusts that an account has no limit for as long as it trusts a key lookup (Redis:KeyCacheTtl).
        services.AddSingleton(sp => new RedisRateLimiter(
            sp.GetRequiredService<IConnectionMultiplexer>(),
            sp.GetRequiredService<IOptions<RateLimitOptions>>(),
            sp.GetRequiredService<TimeProvider>(),
            keyPrefix,
            sp.GetService<IOptions<RedisStoreOptions>>()?.Value.KeyCacheTtl));
        services.AddSingleton<IRateLimitPolicyStore>(sp => new RedisRateLimitPolicyStore(
            sp.GetRequiredService<IConnectionMultiplexer>(), keyPrefix, sp.GetRequiredService<RedisRateLimiter>()));
        services.AddSingleton<IRateLimiter>(sp => sp.GetRequiredService<RedisRateLimiter>());
        return services;
    }
}
