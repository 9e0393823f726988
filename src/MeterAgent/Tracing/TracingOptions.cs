namespace MeterAgent.Tracing;

/// <summary>
/// Section "Tracing": whether the agent records spans and where they go. Off unless asked for, so an agent nobody
/// traces pays nothing for tracing: no listener on its <see cref="TracingActivitySource"/>, no tracing step in the proxy.
/// </summary>
public sealed class TracingOptions
{
    public const string Section = "Tracing";

    /// <summary>The standard OpenTelemetry variable: set (as an environment variable or a setting), tracing is on.</summary>
    public const string OtlpEndpointVariable = "OTEL_EXPORTER_OTLP_ENDPOINT";

    /// <summary>Record spans. Unset: on exactly when <see cref="OtlpEndpointVariable"/> is set; an explicit false wins.</summary>
    public bool? Enabled { get; set; }

    /// <summary>The share of traces recorded, 0 to 1, decided from the trace id (the client's sampled flag does not decide).</summary>
    public double SampleRatio { get; set; } = 1.0;

    /// <summary>
    /// <c>otlp</c> (the default): spans go out over OTLP, configured by the standard <c>OTEL_EXPORTER_OTLP_*</c>
    /// variables. <c>none</c>: spans are recorded for in-process listeners only (another exporter a host adds, tests).
    /// </summary>
    public string Exporter { get; set; } = ExporterOtlp;

    public const string ExporterOtlp = "otlp";

    public const string ExporterNone = "none";

    /// <summary>Whether tracing is on, from the section and the OTLP variable, as start-up decides it.</summary>
    public static bool IsEnabled(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var options = Read(configuration);
        return options.Enabled ?? !string.IsNullOrWhiteSpace(configuration[OtlpEndpointVariable]);
    }

    /// <summary>The section as bound now (the registration needs it before the container exists).</summary>
    public static TracingOptions Read(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        return configuration.GetSection(Section).Get<TracingOptions>() ?? new TracingOptions();
    }
}
