using BenchmarkDotNet.Attributes;
using MeterAgent.Benchmarks.Payloads;
using MeterAgent.Metering.Responses;
using MeterAgent.Metering.Surfaces;

namespace MeterAgent.Benchmarks;

/// <summary>The non-streaming tap: a whole JSON body (about 200 output words) arriving in one read, read once at the end.</summary>
[MemoryDiagnoser]
public class JsonTapBenchmarks
{
    private const int Words = 196;

    private ReadOnlyMemory<byte> _openAI;
    private ReadOnlyMemory<byte> _anthropic;

    [GlobalSetup]
    public void Setup()
    {
        _openAI = WirePayloads.OpenAIChatCompletion(Words);
        _anthropic = WirePayloads.AnthropicMessage(Words);
        if (Run(ApiSurface.OpenAIChatCompletions, _openAI).NativeUsage is null)
        {
            throw new InvalidOperationException("The OpenAI body was not metered: usage missing.");
        }
    }

    [Benchmark(Baseline = true, Description = "OpenAI chat completion body")]
    public MeteredResponse OpenAIChat() => Run(ApiSurface.OpenAIChatCompletions, _openAI);

    [Benchmark(Description = "Anthropic message body")]
    public MeteredResponse Anthropic() => Run(ApiSurface.AnthropicMessages, _anthropic);

    private static MeteredResponse Run(ApiSurface surface, ReadOnlyMemory<byte> body)
    {
        var meter = new ResponseMeter(surface, "application/json", hideUsageChunk: false);
        GC.KeepAlive(meter.Process(body).Length);
        return meter.Complete().Result;
    }
}
