using Microsoft.Extensions.Diagnostics.Metrics;
using OpenTelemetry.Metrics;

namespace MeterAgent.Observability;

/// <summary>
/// The same instruments over OTLP, only when asked: <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set (the OpenTelemetry
/// convention; the exporter reads it and the other <c>OTEL_EXPORTER_OTLP_*</c> settings itself) or
/// <c>Metrics:Otlp=true</c>. This file owns the metrics half of <c>AddOpenTelemetry()</c>; tracing adds its own
/// <c>WithTracing</c> beside it.
/// </summary>
internal static class MetricsOpenTelemetry
{
    public const string EndpointVariable = "OTEL_EXPORTER_OTLP_ENDPOINT";

    // The name OpenTelemetry's listener has among the host's metrics listeners (IMetricsListener.Name).
    private const string ListenerName = "OpenTelemetry";

    public static bool IsRequested(IConfiguration configuration, MetricsOptions options) =>
        options.Otlp || !string.IsNullOrWhiteSpace(configuration[EndpointVariable]);

    public static IServiceCollection AddOtlpMetrics(this IServiceCollection services)
    {
        // Which meters OpenTelemetry hears is the host's metrics rules, not the provider's AddMeter: AddMeter takes every
        // meter of that name in the process, and with two agents in one process (tests, or a host embedding the agent)
        // the two agents' instruments of one name shared a stream, which the other's stop retired, silencing this one's.
        // MeterScope.Local is this host's IMeterFactory only (as the Prometheus registry filters, MetricsExport); the
        // runtime's meter is process-wide (Global).
        services.AddMetrics(metrics => metrics
            .EnableMetrics(MeterAgentMetrics.MeterName, instrumentName: null, ListenerName, MeterScope.Local)
            .EnableMetrics(MetricsExport.RuntimeMeterName, instrumentName: null, ListenerName, MeterScope.Global));
        services.AddOpenTelemetry().WithMetrics(metrics => metrics.AddOtlpExporter());
        return services;
    }
}
