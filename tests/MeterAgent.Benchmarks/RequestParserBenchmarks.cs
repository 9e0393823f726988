using BenchmarkDotNet.Attributes;
using MeterAgent.Benchmarks.Payloads;
using MeterAgent.Metering.Requests;
using MeterAgent.Metering.Surfaces;
using MeterAgent.Metering.Tokenization;

namespace MeterAgent.Benchmarks;

/// <summary>
/// The request side, which runs before the request goes upstream and so adds directly to time to first token:
/// parsing a typical ~2.5 KB chat request, and parsing plus the reference input count as the middleware does it.
/// </summary>
[MemoryDiagnoser]
public class RequestParserBenchmarks
{
    private byte[] _openAI = [];
    private byte[] _anthropic = [];

    [GlobalSetup]
    public void Setup()
    {
        _openAI = WirePayloads.OpenAIChatRequest();
        _anthropic = WirePayloads.AnthropicMessagesRequest();
        var check = RequestParser.Parse(ApiSurface.OpenAIChatCompletions, _openAI);
        if (check.Request is not { InputSegments.Count: > 0 })
        {
            throw new InvalidOperationException($"The OpenAI request did not parse: {check.Error}");
        }

        _ = ReferenceTokenizer.Instance;
    }

    [Benchmark(Baseline = true, Description = "Parse OpenAI chat request")]
    public RequestParseResult OpenAIChat() => RequestParser.Parse(ApiSurface.OpenAIChatCompletions, _openAI);

    [Benchmark(Description = "Parse Anthropic messages request")]
    public RequestParseResult Anthropic() => RequestParser.Parse(ApiSurface.AnthropicMessages, _anthropic);

    [Benchmark(Description = "Parse + count input, OpenAI chat")]
    public long OpenAIChatWithCount()
    {
        var parsed = RequestParser.Parse(ApiSurface.OpenAIChatCompletions, _openAI);
        return ReferenceTokenizer.Instance.CountTokens(parsed.Request!.InputSegments);
    }
}
