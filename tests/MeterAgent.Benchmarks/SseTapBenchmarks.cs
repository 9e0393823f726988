using BenchmarkDotNet.Attributes;
using MeterAgent.Benchmarks.Payloads;
using MeterAgent.Metering.Responses;
using MeterAgent.Metering.Surfaces;

namespace MeterAgent.Benchmarks;

/// <summary>
/// The streaming tap over one whole response of ~200 events: what the proxy spends per stream between upstream and
/// client (MeteringResponseStream calls Process per read, then Complete once). The reference count of the output is
/// not included: the host does it after the client has its last byte (see TokenizerBenchmarks for its cost).
/// </summary>
[MemoryDiagnoser]
public class SseTapBenchmarks
{
    private const int Deltas = 196;
    private const string EventStream = "text/event-stream; charset=utf-8";

    private ReadOnlyMemory<byte>[] _openAI = [];
    private ReadOnlyMemory<byte>[] _anthropic = [];

    [Params(Chunking.PerEvent, Chunking.Segments1400)]
    public Chunking Chunking { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _openAI = ChunkSplitter.Split(WirePayloads.OpenAIChatStream(Deltas), Chunking);
        _anthropic = ChunkSplitter.Split(WirePayloads.AnthropicStream(Deltas), Chunking);

        // A tap that meters nothing would benchmark nothing: fail the run rather than report a fast no-op.
        var check = Run(ApiSurface.OpenAIChatCompletions, _openAI, hideUsageChunk: true);
        if (check.NativeUsage is null || !check.Complete || check.OutputSegments.Count == 0)
        {
            throw new InvalidOperationException("The OpenAI stream was not metered: usage or text missing.");
        }
    }

    [Benchmark(Baseline = true, Description = "OpenAI chat stream")]
    public MeteredResponse OpenAIChat() => Run(ApiSurface.OpenAIChatCompletions, _openAI, hideUsageChunk: false);

    [Benchmark(Description = "OpenAI chat stream, hide usage chunk")]
    public MeteredResponse OpenAIChatHidingUsage() => Run(ApiSurface.OpenAIChatCompletions, _openAI, hideUsageChunk: true);

    [Benchmark(Description = "Anthropic messages stream")]
    public MeteredResponse Anthropic() => Run(ApiSurface.AnthropicMessages, _anthropic, hideUsageChunk: false);

    private static MeteredResponse Run(ApiSurface surface, ReadOnlyMemory<byte>[] chunks, bool hideUsageChunk)
    {
        var meter = new ResponseMeter(surface, EventStream, hideUsageChunk);
        var sent = 0;
        foreach (var chunk in chunks)
        {
            sent += meter.Process(chunk).Length;
        }

        var (remaining, result) = meter.Complete();
        GC.KeepAlive(sent + remaining.Length);
        return result;
    }
}
