using MeterAgent.Common;
using MeterAgent.Ledger.Outcomes;
using Microsoft.Extensions.Options;
using Prometheus;

namespace MeterAgent.Observability;

internal static class MetricsServiceCollectionExtensions
{
    /// <summary>
    /// The <c>Metrics</c> options and the instruments, always (the proxy and credits record to them); with
    /// <c>Metrics:Enabled</c> (the default) also the Prometheus registry, the settlement observer, the credit gauges and,
    /// when asked, OTLP. Off, nothing listens and nothing is served.
    /// </summary>
    public static IServiceCollection AddMeterAgentMetrics(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<MetricsOptions>().BindConfiguration(MetricsOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<MetricsOptions>, MetricsOptionsValidator>();
        services.AddSingleton<MeterAgentMetrics>();

        var options = configuration.GetSection(MetricsOptions.Section).Get<MetricsOptions>() ?? new MetricsOptions();
        if (!options.Enabled)
        {
            return services;
        }

        services.AddSingleton<MetricsExport>();
        services.AddSingleton<SettlementMetrics>();
        services.AddSingleton<ISettlementObserver>(sp => sp.GetRequiredService<SettlementMetrics>());
        services.AddSingleton<CreditGauges>();
        services.AddHostedService(sp => sp.GetRequiredService<CreditGauges>());
        if (MetricsOpenTelemetry.IsRequested(configuration, options))
        {
            services.AddOtlpMetrics();
        }

        return services;
    }

    /// <summary>
    /// <c>GET /metrics</c> on the management port (the client port answers 404), in the Prometheus text format. Call it
    /// first after the app is built: the registry starts listening here, and counters set to 0 at start-up (so every
    /// known series exists before its first event) are recorded only once it listens.
    /// </summary>
    public static void MapMetricsEndpoint(this WebApplication app)
    {
        if (app.Services.GetService<MetricsExport>() is not { } export)
        {
            return;
        }

        app.MapMetrics(settings =>
        {
            settings.Registry = export.Registry;

            // The classic text format whatever the scraper asks for: one stable exposition (the golden test reads it).
            settings.EnableOpenMetrics = false;
        }).OnManagementPort();
    }
}
