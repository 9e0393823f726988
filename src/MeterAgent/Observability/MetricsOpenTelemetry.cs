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

    public static bool IsRequested(IConfiguration configuration, MetricsOptions options) =>
        options.Otlp || !string.IsNullOrWhiteSpace(configuration[EndpointVariable]);

    public static IServiceCollection AddOtlpMetrics(this IServiceCollection services)
    {
        services.AddOpenTelemetry().WithMetrics(metrics => metrics
            .AddMeter(MeterAgentMetrics.MeterName, MetricsExport.RuntimeMeterName)
            .AddOtlpExporter());
        return services;
    }
}
