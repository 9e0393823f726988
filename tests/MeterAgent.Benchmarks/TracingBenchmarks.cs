using System.Diagnostics;
using BenchmarkDotNet.Attributes;
using MeterAgent.Contracts.Units;
using MeterAgent.Ledger.Outcomes;
using MeterAgent.Ledger.Usage;
using MeterAgent.Metering.Surfaces;
using MeterAgent.Tracing;

namespace MeterAgent.Benchmarks;

/// <summary>
/// What the request's span costs. Listening=false is an agent with tracing off as far as the source goes (nothing
/// listens, StartActivity returns null; the real agent with tracing off does not even run this step). Listening=true
/// is a recorded span: start, the GenAI and metering attributes from a settled outcome, stop, as the proxy does it,
/// with a listener that records everything and exports nothing (the exporter's batching is not on the request path).
/// </summary>
[MemoryDiagnoser]
public class TracingBenchmarks
{
    private ActivityListener? _listener;
    private SettledRequest _settled = null!;

    [Params(false, true)]
    public bool Listening { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        if (Listening)
        {
            _listener = new ActivityListener
            {
                ShouldListenTo = source => source.Name == TracingActivitySource.Name,
                Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            };
            ActivitySource.AddActivityListener(_listener);
        }

        var started = DateTimeOffset.UtcNow;
        _settled = Settled(
            new RequestOutcome
            {
                UsageId = Guid.CreateVersion7().ToString("N"),
                AccountId = "acct_0123456789",
                KeyId = "key_0123456789",
                Surface = ApiSurface.OpenAIChatCompletions.Name(),
                RequestedModel = "gpt-4o-mini",
                ServedModel = "gpt-4o-mini-2024-07-18",
                Stream = true,
                StartedAt = started,
                FirstTokenAt = started.AddMilliseconds(180),
                EndedAt = started.AddSeconds(2),
                Status = UsageStatus.Completed,
                HttpStatus = 200,
                Forwarded = true,
                Counts = new MeteredCounts(120, 340, 118, 0, 0, 352, 0),
            },
            new RedemptionSummary("o200k-std-2026q4", 1, 800_000_000, "reference", 800_000_000, 0, ["lot-1"]));
    }

    [GlobalCleanup]
    public void Cleanup() => _listener?.Dispose();

    [Benchmark(Description = "request span")]
    public bool Span()
    {
        using var span = TracingActivitySource.Source.StartActivity("chat", ActivityKind.Internal);
        if (span is null)
        {
            return false;
        }

        span.SetTag(TracingAttributes.OperationName, "chat");
        span.SetTag(TracingAttributes.ProviderName, "openai");
        span.SetEndTime(DateTime.UtcNow);
        span.DisplayName = "chat gpt-4o-mini";
        span.SetTag(TracingAttributes.RequestModel, "gpt-4o-mini");
        span.SetTag(TracingAttributes.RequestMaxTokens, 512L);
        TracingOutcomeTags.Apply(span, ApiSurface.OpenAIChatCompletions, _settled.Outcome, _settled.Redemption);
        return true;
    }

    private static SettledRequest Settled(RequestOutcome outcome, RedemptionSummary redemption) => new(outcome, redemption, outcome.ToRecord());
}
