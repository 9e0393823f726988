using System.Diagnostics.Metrics;
using Microsoft.Extensions.Options;

namespace MeterAgent.Observability;

/// <summary>
/// The agent's instruments on its one <see cref="Meter"/> (<see cref="MeterName"/>), and the label caps they share.
/// Instruments are named the OpenTelemetry way (dotted, with a unit): the Prometheus names dashboards use follow
/// from them (<see cref="PrometheusNames"/>: <c>meteragent.requests</c> is scraped as <c>meteragent_requests_total</c>),
/// and OTLP gets the GenAI semantic-convention names as they are.
/// </summary>
/// <remarks>
/// The meter comes from the host's <see cref="IMeterFactory"/>, so it belongs to this host: two agents in one process
/// (tests) each serve only their own numbers. With <see cref="MetricsOptions.Enabled"/> off the instruments still
/// exist but nothing listens, and recording to them costs a flag check.
/// A new capability's metric is one line where its state lives: a counter or histogram from <see cref="Meter"/>, or a
/// gauge with <see cref="Gauge"/>.
/// </remarks>
internal sealed class MeterAgentMetrics
{
    public const string MeterName = "MeterAgent";

    private const int MaxModelNameLength = 128;

    /// <summary>The steps of a reservation's life, the values of the <c>outcome</c> label.</summary>
    public static readonly IReadOnlyList<string> ReservationOutcomes = ["reserved", "refused", "posted", "voided", "expired"];

    /// <summary>How a witness answered a checkpoint, the values of the <c>result</c> label.</summary>
    public static readonly IReadOnlyList<string> WitnessResults = ["cosigned", "refused", "unreachable"];

    private readonly LabelCap _models;
    private readonly LabelCap? _accounts;

    public MeterAgentMetrics(IMeterFactory meterFactory, IOptions<MetricsOptions> options)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        var settings = options.Value;
        Enabled = settings.Enabled;
        _models = new LabelCap(settings.MaxModelLabels);
        _accounts = settings.AccountLabels ? new LabelCap(settings.MaxAccountLabels) : null;
        Meter = meterFactory.Create(MeterName);

        Requests = Meter.CreateCounter<long>("meteragent.requests", "{request}", "Metered requests by how they ended.");
        RequestDuration = Meter.CreateHistogram<double>("gen_ai.server.request.duration", "s",
            "Start to end of a metered request as the agent saw it.", advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = MetricBuckets.Latency });
        TimeToFirstToken = Meter.CreateHistogram<double>("gen_ai.server.time_to_first_token", "s",
            "Start of a streamed request to its first content token.", advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = MetricBuckets.Latency });
        TokenUsage = Meter.CreateHistogram<long>("gen_ai.client.token.usage", "{token}",
            "Tokens per request (native when the upstream reported them, else the reference count).",
            advice: new InstrumentAdvice<long> { HistogramBucketBoundaries = MetricBuckets.Tokens });
        Tokens = Meter.CreateCounter<long>("meteragent.tokens", "{token}", "Tokens by class, native and reference side by side.");
        ProxyOverhead = Meter.CreateHistogram<double>("meteragent.proxy.overhead", "s",
            "The agent's own added latency: time to response headers at the client minus the upstream's time to its response headers.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = MetricBuckets.Overhead });
        Refusals = Meter.CreateCounter<long>("meteragent.refusals", "{request}", "Requests refused before the upstream.");
        CreditUnitsRedeemed = Meter.CreateCounter<double>("meteragent.credit.units.redeemed", "{unit}", "Contract units redeemed from lots.");
        CreditUnitsOverage = Meter.CreateCounter<double>("meteragent.credit.units.overage", "{unit}", "Contract units charged as overage.");
        Reservations = Meter.CreateCounter<long>("meteragent.reservations", "{reservation}", "Credit reservations by lifecycle step.");

        // Here rather than in the witness client, so the series exist (at 0) while no witness is configured.
        WitnessCosignatures = Meter.CreateCounter<long>("meteragent.log.witness.cosignatures", "{answer}", "Witness answers to a checkpoint, by result.");
        foreach (var result in WitnessResults)
        {
            WitnessCosignatures.Add(0, new KeyValuePair<string, object?>("result", result));
        }
    }

    /// <summary>Whether anything is counted and served (<see cref="MetricsOptions.Enabled"/>).</summary>
    public bool Enabled { get; }

    public Meter Meter { get; }

    public Counter<long> Requests { get; }

    public Histogram<double> RequestDuration { get; }

    public Histogram<double> TimeToFirstToken { get; }

    public Histogram<long> TokenUsage { get; }

    public Counter<long> Tokens { get; }

    public Histogram<double> ProxyOverhead { get; }

    public Counter<long> Refusals { get; }

    public Counter<double> CreditUnitsRedeemed { get; }

    public Counter<double> CreditUnitsOverage { get; }

    public Counter<long> Reservations { get; }

    /// <summary>Witness answers by <c>result</c> (<see cref="WitnessResults"/>), counted by the witness client.</summary>
    public Counter<long> WitnessCosignatures { get; }

    /// <summary>Whether the credit counters carry an <c>account</c> label (<see cref="MetricsOptions.AccountLabels"/>).</summary>
    public bool AccountLabels => _accounts is not null;

    /// <summary>The served (else requested) model as a label, capped by <see cref="MetricsOptions.MaxModelLabels"/>.</summary>
    /// <remarks>A name longer than any model's (a client's invention) is <c>other</c> without taking a place in the cap.</remarks>
    public string Model(string? served, string? requested)
    {
        var model = string.IsNullOrEmpty(served) ? requested : served;
        return string.IsNullOrEmpty(model) ? MetricLabels.Unknown
            : model.Length > MaxModelNameLength ? LabelCap.Other
            : _models.Apply(model);
    }

    /// <summary>The account as a label, capped by <see cref="MetricsOptions.MaxAccountLabels"/>; only when account labels are on.</summary>
    public string Account(string accountId) => _accounts?.Apply(accountId) ?? MetricLabels.Unknown;

    /// <summary>A refusal before the upstream (an outcome that was never forwarded, or a 401 that never became one).</summary>
    public void Refused(string surface, int status) => Refusals.Add(1,
        new KeyValuePair<string, object?>("surface", surface),
        new KeyValuePair<string, object?>("status_code", MetricLabels.StatusCode(status)),
        new KeyValuePair<string, object?>("reason", MetricLabels.RefusalReason(status)));

    /// <summary>A step of a reservation's life (<c>reserved</c>, <c>refused</c>, <c>posted</c>, <c>voided</c>, <c>expired</c>).</summary>
    public void Reservation(string outcome) => Reservations.Add(1, new KeyValuePair<string, object?>("outcome", outcome));

    /// <summary>
    /// Credits are on: every reservation step and each contract's redeemed and overage counters start at 0, so their
    /// series exist (and rates and alerts evaluate) before the first event of each kind.
    /// </summary>
    public void StartCredits(IEnumerable<string> contractIds)
    {
        ArgumentNullException.ThrowIfNull(contractIds);
        foreach (var outcome in ReservationOutcomes)
        {
            Reservations.Add(0, new KeyValuePair<string, object?>("outcome", outcome));
        }

        if (AccountLabels)
        {
            // With an account label the series are per account, and no account is known yet.
            return;
        }

        foreach (var contract in contractIds)
        {
            CreditUnitsRedeemed.Add(0, new KeyValuePair<string, object?>("contract", contract));
            CreditUnitsOverage.Add(0, new KeyValuePair<string, object?>("contract", contract));
        }
    }

    /// <summary>
    /// A gauge read when metrics are collected: the one line a capability adds for a number it already keeps, e.g.
    /// <c>metrics.Gauge("meteragent.log.append_backlog", "{record}", "...", () => _queue.Reader.Count)</c>.
    /// </summary>
    public ObservableGauge<long> Gauge(string name, string unit, string description, Func<long> read) =>
        Meter.CreateObservableGauge(name, read, unit, description);
}
