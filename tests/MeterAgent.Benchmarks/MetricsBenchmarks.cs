using BenchmarkDotNet.Attributes;
using MeterAgent.Contracts.Units;
using MeterAgent.Ledger.Credits;
using MeterAgent.Ledger.Outcomes;
using MeterAgent.Ledger.Usage;
using MeterAgent.Observability;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace MeterAgent.Benchmarks;

/// <summary>
/// What the metrics observer costs per settled request (a credited stream with native counts: every instrument it
/// records to), with the Prometheus registry listening (Metrics:Enabled, the default) and with nothing listening (the
/// instruments exist, as they do with Metrics:Enabled=false, where the observer is not even registered: 0 ns).
/// </summary>
[MemoryDiagnoser]
public class MetricsBenchmarks
{
    private ServiceProvider _services = null!;
    private SettlementMetrics _observer = null!;
    private MetricsExport? _export;
    private SettledRequest _settled = null!;

    [Params(true, false)]
    public bool Listening { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var factory = _services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>();
        _export = Listening ? new MetricsExport(factory) : null;
        var metrics = new MeterAgentMetrics(factory, Options.Create(new MetricsOptions()));
        _observer = new SettlementMetrics(metrics);

        var started = DateTimeOffset.UtcNow;
        var reservation = new Reservation("r1", "acct_1", "std", ReservationState.Pending, 3_000_000, 0, 0, [], started, started.AddMinutes(30));
        _settled = Settled(new RequestOutcome
        {
            UsageId = "u1",
            AccountId = "acct_1",
            KeyId = "k1",
            Surface = "openai.chat_completions",
            RequestedModel = "gpt-4o",
            ServedModel = "gpt-4o-2024-08-06",
            Stream = true,
            StartedAt = started,
            FirstTokenAt = started.AddMilliseconds(180),
            EndedAt = started.AddSeconds(2),
            Status = UsageStatus.Completed,
            HttpStatus = 200,
            Forwarded = true,
            Counts = new MeteredCounts(812, 240, 815, 128, null, 242, 0),
            Reservation = reservation,
        }, new RedemptionSummary("std", 1, 1_300_000, "reference", 1_300_000, 0, ["lot-1"]));

        // The series exist after the first request; what is measured is every later one.
        _observer.Record(_settled);
    }

    [Benchmark]
    public void Record() => _observer.Record(_settled);

    [GlobalCleanup]
    public void Cleanup()
    {
        _export?.Dispose();
        _services.Dispose();
    }

    private static SettledRequest Settled(RequestOutcome outcome, RedemptionSummary redemption) => new(outcome, redemption, outcome.ToRecord());
}
