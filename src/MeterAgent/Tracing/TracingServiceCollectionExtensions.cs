using MeterAgent.Common;
using Microsoft.Extensions.Options;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using Yarp.ReverseProxy.Forwarder;

namespace MeterAgent.Tracing;

/// <summary>
/// The agent's tracing, in one registration that composes with any other use of <c>AddOpenTelemetry()</c> (the
/// metrics' <c>WithMetrics</c>): OpenTelemetry's builder is shared, and this adds only tracing to it.
/// </summary>
public static class TracingServiceCollectionExtensions
{
    /// <summary>
    /// Off (the default, unless <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set or <c>Tracing:Enabled=true</c>): no tracer
    /// provider, nothing listens to the agent's <see cref="TracingActivitySource"/>, no tracing step in the proxy, and
    /// the upstream gets the client's trace context as it came (<see cref="TracingForwarderHttpClientFactory"/>).
    /// On: spans of the agent's source, ASP.NET Core's on the client port (the management port's probes and scrapes
    /// would drown them) and HttpClient's, sampled at <c>Tracing:SampleRatio</c> by trace id, sent over OTLP unless
    /// <c>Tracing:Exporter=none</c>.
    /// </summary>
    public static IServiceCollection AddMeterAgentTracing(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);

        services.AddOptions<TracingOptions>().BindConfiguration(TracingOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<TracingOptions>, TracingOptionsValidator>();
        if (!TracingOptions.IsEnabled(configuration))
        {
            services.AddSingleton<IForwarderHttpClientFactory, TracingForwarderHttpClientFactory>();
            return services;
        }

        var options = TracingOptions.Read(configuration);
        services.AddSingleton<TracingEnabled>();
        services.AddOpenTelemetry()
            .ConfigureResource(resource => resource
                .AddService("meteragent", serviceVersion: typeof(TracingServiceCollectionExtensions).Assembly.GetName().Version?.ToString())

                // OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES still win over the default name.
                .AddEnvironmentVariableDetector())
            .WithTracing(tracing =>
            {
                // By trace id alone: a client's sampled flag neither forces nor suppresses what the provider records,
                // and every span of one trace gets the same decision.
                tracing.SetSampler(new TraceIdRatioBasedSampler(Math.Clamp(options.SampleRatio, 0, 1)))
                    .AddSource(TracingActivitySource.Name)
                    .AddAspNetCoreInstrumentation(aspNetCore => aspNetCore.Filter = context => !ManagementListener.IsManagementConnection(context))
                    .AddHttpClientInstrumentation();
                if (!string.Equals(options.Exporter, TracingOptions.ExporterNone, StringComparison.OrdinalIgnoreCase))
                {
                    tracing.AddOtlpExporter();
                }
            });
        return services;
    }

    /// <summary>The span step of the proxy pipeline, before metering; nothing at all when tracing is off.</summary>
    public static IApplicationBuilder UseMeterAgentTracing(this IApplicationBuilder proxy)
    {
        ArgumentNullException.ThrowIfNull(proxy);
        return proxy.ApplicationServices.GetService<TracingEnabled>() is null ? proxy : proxy.UseMiddleware<TracingMiddleware>();
    }

    /// <summary>Registered only when tracing is on, so the pipeline knows without reading configuration again.</summary>
    private sealed class TracingEnabled;
}
