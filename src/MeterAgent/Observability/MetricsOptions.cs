namespace MeterAgent.Observability;

/// <summary>
/// The <c>Metrics</c> section: whether the agent counts at all, how many distinct label values it keeps, and how often
/// it reads slow state. Caps exist because every label value is a time series a Prometheus must hold for ever:
/// a client that invents model names must not be able to grow the agent's or the server's memory.
/// </summary>
public sealed class MetricsOptions
{
    public const string Section = "Metrics";

    /// <summary>Counts and serves metrics (<c>/metrics</c>, OTLP when configured); off, nothing is registered (the benchmark's baseline).</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Distinct <c>model</c> label values per process; the rest are counted as <c>other</c>.</summary>
    public int MaxModelLabels { get; set; } = 200;

    /// <summary>Adds the <c>account</c> label to the credit counters (off by default: accounts are many and may be sensitive).</summary>
    public bool AccountLabels { get; set; }

    /// <summary>Distinct <c>account</c> label values per process when <see cref="AccountLabels"/> is on; the rest are <c>other</c>.</summary>
    public int MaxAccountLabels { get; set; } = 100;

    /// <summary>How often credit availability per contract is read from the ledger (a query over the lots, off the request path).</summary>
    public TimeSpan LedgerPollInterval { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>Exports the same instruments over OTLP even without <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> (then to the OTLP default endpoint).</summary>
    public bool Otlp { get; set; }
}
