using System.Text;
using System.Text.Json;
using CsCheck;
using MeterAgent.Metering.Canonical;
using MeterAgent.Metering.Requests;
using MeterAgent.Metering.Responses;
using MeterAgent.Metering.Surfaces;
using MeterAgent.Metering.Tokenization;
using MeterAgent.Metering.Tests.Responses;

namespace MeterAgent.Metering.Tests.Canonical;

/// <summary>
/// The proxy counts short text as it parses a request and as a response ends, keeping no string for it. A count must not
/// depend on that: what was counted as collected plus the count of what was kept is exactly the count of every segment
/// kept, for any body, whatever its escapes, characters or lengths, and a body the parser refuses is refused either way.
/// </summary>
public sealed class CountAsCollectedTests
{
    private static readonly ReferenceTokenizer Tokenizer = ReferenceTokenizer.Instance;

    // Text a client might send: plain words, escapes of every kind (quotes, \n, \u0041, a surrogate pair written as two
    // escapes, a lone surrogate), multi-byte characters and emoji, and runs long enough to pass the budget.
    private static readonly Gen<string> GenText = Gen.OneOf(
        Gen.String[Gen.Char['a', 'z'], 0, 40],
        Pick("Hello, world!", "  spaces  and\ttabs", "line\\nbreak", "quote \\\"here\\\"", "\\u0041\\u00e9\\u4e2d",
            "\\ud83d\\ude00 grin", "\\ud800 lone", "héllo wörld", "日本語のテキスト", "emoji 😀👍🏽", "a\\\\b", "\\/slash", ""),
        Gen.Int[900, 2600].Select(length => string.Concat(Enumerable.Repeat("word ", length / 5 + 1))[..length]),
        Gen.String[Gen.Char['\u0020', '\u07FF'], 0, 60].Select(text => JsonEncodedText.Encode(text).ToString()));

    private static readonly Gen<(ApiSurface Surface, string Body)> GenRequest = Gen.Select(
        Pick(ApiSurface.OpenAIChatCompletions, ApiSurface.OpenAICompletions, ApiSurface.OpenAIResponses,
            ApiSurface.AnthropicMessages, ApiSurface.OpenAIEmbeddings),
        GenText.Array[1, 6],
        (surface, texts) => (surface, Body(surface, texts)));

    [Fact]
    public void A_request_counted_as_parsed_counts_what_its_kept_segments_count()
    {
        GenRequest.Sample((surface, body) => SameInputCount(surface, Encoding.UTF8.GetBytes(body)), iter: 3_000);
    }

    [Fact]
    public void A_small_request_keeps_no_text_and_a_long_segment_is_kept_whole()
    {
        var small = Encoding.UTF8.GetBytes(Body(ApiSurface.OpenAIChatCompletions, ["You are a helpful assistant.", "Summarise Hamlet."]));
        var counted = RequestParser.Parse(ApiSurface.OpenAIChatCompletions, small, Tokenizer).Request!;
        Assert.Empty(counted.InputSegments);
        Assert.True(counted.InputTokensCounted > 0);

        var longText = string.Concat(Enumerable.Repeat("Lorem ipsum dolor sit amet. ", 60));
        var mixed = Encoding.UTF8.GetBytes(Body(ApiSurface.OpenAIChatCompletions, ["short", longText]));
        var parsed = RequestParser.Parse(ApiSurface.OpenAIChatCompletions, mixed, Tokenizer).Request!;
        Assert.Equal([longText], parsed.InputSegments);
        SameInputCount(ApiSurface.OpenAIChatCompletions, mixed);
    }

    [Fact]
    public void Tool_schemas_are_counted_as_written()
    {
        const string body = """
            {"model":"m","messages":[{"role":"user","content":"weather?"}],
             "tools":[{"type":"function","function":{"name":"get_weather","description":"Weather now",
               "parameters":{"type":"object","properties":{"city":{"type":"string","description":"caf\u00e9 \"x\""}}}}}]}
            """;
        var bytes = Encoding.UTF8.GetBytes(body);
        Assert.Empty(RequestParser.Parse(ApiSurface.OpenAIChatCompletions, bytes, Tokenizer).Request!.InputSegments);
        SameInputCount(ApiSurface.OpenAIChatCompletions, bytes);
    }

    [Theory]
    [InlineData(new byte[] { 0xC3 })]
    [InlineData(new byte[] { 0xFF, 0xFE })]
    [InlineData(new byte[] { 0xED, 0xA0, 0x80 })]
    [InlineData(new byte[] { 0xE2, 0x82 })]
    public void Invalid_UTF8_in_text_is_refused_or_read_the_same_either_way(byte[] junk)
    {
        byte[] bytes = [.. """{"model":"m","messages":[{"role":"user","content":"a"""u8, .. junk, .. """b"}]}"""u8];
        var kept = RequestParser.Parse(ApiSurface.OpenAIChatCompletions, bytes);
        var counted = RequestParser.Parse(ApiSurface.OpenAIChatCompletions, bytes, Tokenizer);
        Assert.Equal(kept.IsValid, counted.IsValid);
        if (kept.IsValid)
        {
            SameInputCount(ApiSurface.OpenAIChatCompletions, bytes);
        }
        else
        {
            Assert.Equal(kept.Error, counted.Error);
            Assert.Contains("not UTF-8", counted.Error, StringComparison.Ordinal);
        }
    }

    [Theory]
    [MemberData(nameof(Responses))]
    public void A_response_counted_as_it_ends_counts_what_its_kept_segments_count(ApiSurface surface, string contentType, string body)
    {
        var kept = Tap.Whole(surface, contentType, body).Result;
        var meter = new ResponseMeter(surface, contentType, hideUsageChunk: false, ResponseMeterLimits.Default, Tokenizer);
        meter.Process(Encoding.UTF8.GetBytes(body));
        var counted = meter.Complete().Result;

        Assert.NotEmpty(kept.OutputSegments);
        Assert.Equal(0, kept.OutputTokensCounted);
        Assert.Equal(Tokenizer.CountTokens(kept.OutputSegments), counted.OutputTokensCounted + Tokenizer.CountTokens(counted.OutputSegments));

        // What fits the budget is counted, not kept: only a segment past it stays a string.
        Assert.All(counted.OutputSegments, segment => Assert.True(segment.Length > SegmentList.CountNowChars));
    }

    public static TheoryData<ApiSurface, string, string> Responses()
    {
        var longAnswer = JsonEncodedText.Encode(string.Concat(Enumerable.Repeat("The play ends in tragedy. ", 50))).ToString();
        return new()
        {
            { ApiSurface.OpenAIChatCompletions, Tap.Json, """{"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"Hi th\u00e9re 😀","refusal":"no","tool_calls":[{"type":"function","function":{"name":"f","arguments":"{\"a\":1}"}}]}}]}""" },
            { ApiSurface.OpenAIChatCompletions, Tap.Json, $$$"""{"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"{{{longAnswer}}}"}},{"index":1,"message":{"content":"short"}}]}""" },
            { ApiSurface.OpenAIChatCompletions, Tap.EventStream, "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hel\"}}]}\n\ndata: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"lo \\u4e2d\"}}]}\n\ndata: [DONE]\n\n" },
            { ApiSurface.OpenAIResponses, Tap.Json, """{"model":"m","status":"completed","output":[{"type":"message","content":[{"type":"output_text","text":"Answer one"},{"type":"output_text","text":"two"}]},{"type":"function_call","name":"lookup","arguments":"{\"q\":\"x\"}"}]}""" },
            { ApiSurface.AnthropicMessages, Tap.Json, """{"model":"claude","content":[{"type":"text","text":"Bonjour, \"monde\""},{"type":"tool_use","name":"calc","input":{"x":[1,2]}}],"usage":{"input_tokens":3,"output_tokens":4}}""" },
        };
    }

    private static void SameInputCount(ApiSurface surface, byte[] body)
    {
        var kept = RequestParser.Parse(surface, body);
        var counted = RequestParser.Parse(surface, body, Tokenizer);
        Assert.Equal(kept.IsValid, counted.IsValid);
        Assert.Equal(kept.Error, counted.Error);
        if (!kept.IsValid)
        {
            return;
        }

        Assert.Equal(0, kept.Request!.InputTokensCounted);
        var all = Tokenizer.CountTokens(kept.Request.InputSegments);
        Assert.Equal(all, counted.Request!.InputTokensCounted + Tokenizer.CountTokens(counted.Request.InputSegments));
        Assert.Equal(kept.Request.HasNonTextInput, counted.Request.HasNonTextInput);

        // What is kept is kept whole and in order: some of the segments, each past the budget left when it came.
        var next = 0;
        foreach (var segment in counted.Request.InputSegments)
        {
            while (next < kept.Request.InputSegments.Count && kept.Request.InputSegments[next] != segment)
            {
                next++;
            }

            Assert.True(next < kept.Request.InputSegments.Count, $"kept segment not among all segments in order: {segment[..Math.Min(40, segment.Length)]}");
            next++;
        }
    }

    private static string Body(ApiSurface surface, IReadOnlyList<string> texts)
    {
        // Each text is already JSON string content (escapes as written).
        var quoted = texts.Select(text => $"\"{text}\"").ToArray();
        var messages = string.Join(',', quoted.Select((text, i) => $$"""{"role":"{{(i % 2 == 0 ? "user" : "assistant")}}","content":{{text}}}"""));
        return surface switch
        {
            ApiSurface.OpenAIChatCompletions => $$"""{"model":"m","messages":[{"role":"system","content":[{"type":"text","text":{{quoted[0]}}}]},{{messages}}]}""",
            ApiSurface.OpenAICompletions => $$"""{"model":"m","prompt":[{{string.Join(',', quoted)}}]}""",
            ApiSurface.OpenAIResponses => $$"""{"model":"m","instructions":{{quoted[0]}},"input":[{{messages}}]}""",
            ApiSurface.AnthropicMessages => $$"""{"model":"m","max_tokens":5,"system":{{quoted[0]}},"messages":[{{messages}}]}""",
            _ => $$"""{"model":"m","input":[{{string.Join(',', quoted)}}]}""",
        };
    }

    private static Gen<T> Pick<T>(params T[] items) => Gen.Int[0, items.Length - 1].Select(index => items[index]);
}
