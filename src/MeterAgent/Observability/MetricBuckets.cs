namespace MeterAgent.Observability;

/// <summary>
/// Histogram bucket boundaries, given to each histogram as its advice so Prometheus and OTLP bucket alike. They fit
/// what is measured: a model's answer takes milliseconds to minutes, the agent's own share a fraction of a millisecond,
/// and a request's tokens one to a million.
/// </summary>
internal static class MetricBuckets
{
    /// <summary>Request duration and time to first token, in seconds.</summary>
    public static readonly IReadOnlyList<double> Latency = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];

    /// <summary>The proxy's own added latency, in seconds.</summary>
    public static readonly IReadOnlyList<double> Overhead = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25];

    /// <summary>Tokens per request.</summary>
    public static readonly IReadOnlyList<long> Tokens = [1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576];
}
