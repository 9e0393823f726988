using MeterAgent.Common;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;

namespace MeterAgent.Health;

/// <summary>
/// Liveness and readiness on the management port, in ASP.NET Core's health-check form with a JSON body
/// (<see cref="HealthJson"/>): live says the process serves HTTP (no check runs, so a slow store never gets a live
/// agent restarted); ready says it can meter a request now.
/// </summary>
public static class HealthServiceCollectionExtensions
{
    /// <summary>The tag of every check <c>/healthz/ready</c> runs.</summary>
    public const string Ready = "ready";

    /// <summary>A store that takes longer than this to commit is as good as down for a request waiting to be written ahead.</summary>
    private static readonly TimeSpan StoreTimeout = TimeSpan.FromSeconds(5);

    public static IServiceCollection AddMeterAgentHealth(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddHealthChecks()
            .AddCheck<StoreHealthCheck>("store", tags: [Ready], timeout: StoreTimeout)
            .AddCheck<TokenizerHealthCheck>("tokenizer", tags: [Ready])
            .AddCheck<ContractsHealthCheck>("contracts", tags: [Ready]);

        // Redis reachable: the Redis backend (Store:Kind=redis) adds its own check here, tagged Ready, e.g.
        // .AddCheck<RedisHealthCheck>("redis", tags: [Ready], timeout: StoreTimeout); the store check above already
        // covers it through IStoreWriteProbe once that backend implements the probe.
        return services;
    }

    public static IEndpointRouteBuilder MapMeterAgentHealth(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        endpoints.MapHealthChecks("/healthz/live", new HealthCheckOptions { Predicate = _ => false, ResponseWriter = HealthJson.WriteAsync })
            .OnManagementPort();
        endpoints.MapHealthChecks("/healthz/ready", new HealthCheckOptions { Predicate = check => check.Tags.Contains(Ready), ResponseWriter = HealthJson.WriteAsync })
            .OnManagementPort();
        return endpoints;
    }
}
