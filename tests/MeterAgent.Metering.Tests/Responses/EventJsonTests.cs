using System.Text;
using MeterAgent.Metering.Surfaces;
using MeterAgent.Metering.Usage;

namespace MeterAgent.Metering.Tests.Responses;

/// <summary>
/// The tap reads each event with a forward-only Utf8JsonReader pass that looks only at the members metering needs:
/// escapes, member order, members it does not know and malformed data must read as a parsed document would.
/// </summary>
public sealed class EventJsonTests
{
    [Fact]
    public void Escapes_in_deltas_are_unescaped()
    {
        var (_, result) = Chat(
            """{"choices":[{"index":0,"delta":{"content":"caf\u00e9 \"q\" a\\b c\/d\n\t\r\b\f"}}]}""",
            """{"choices":[{"index":0,"delta":{"content":"\u4F60\u597D"}}]}""");

        Assert.Equal(["café \"q\" a\\b c/d\n\t\r\b\f你好"], result.OutputSegments);
        Assert.False(result.Malformed);
    }

    [Fact]
    public void Surrogate_pair_escapes_in_one_delta_make_one_character()
    {
        var (_, result) = Chat("""{"choices":[{"index":0,"delta":{"content":"a\ud83d\ude00b"}}]}""");

        Assert.Equal(["a😀b"], result.OutputSegments);
    }

    [Fact]
    public void Surrogate_pair_escapes_split_over_two_deltas_join_up()
    {
        // A model may emit the high and low halves in separate chunks; concatenated, the client sees one emoji.
        var (_, result) = Chat(
            """{"choices":[{"index":0,"delta":{"content":"x\ud83d"}}]}""",
            """{"choices":[{"index":0,"delta":{"content":"\ude00y"}}]}""");

        Assert.Equal(["x😀y"], result.OutputSegments);
        Assert.False(result.Malformed);
    }

    [Fact]
    public void Invalid_utf8_in_a_delta_does_not_break_the_tap()
    {
        // The bytes reach the client as they came; metering counts the bad byte as U+FFFD instead of throwing.
        var bytes = Encoding.UTF8.GetBytes(Sse(
            """{"choices":[{"index":0,"delta":{"content":"ok"}}]}""",
            """{"choices":[{"index":0,"delta":{"content":"bad?"}}]}""",
            "[DONE]"));
        bytes[Array.IndexOf(bytes, (byte)'?')] = 0xFF;
        var (client, result) = Tap.Run(ApiSurface.OpenAIChatCompletions, Tap.EventStream, false, bytes, []);

        Assert.Equal(bytes, client);
        Assert.True(result.Complete);
        Assert.Equal(["okbad\uFFFD"], result.OutputSegments);
    }

    [Fact]
    public void Very_long_deltas_are_kept_whole()
    {
        var plain = string.Concat(Enumerable.Repeat("0123456789abcdéf你", 8_000));
        var escaped = string.Concat(Enumerable.Repeat("line\\n\\u00e9\\\"", 10_000));
        var (_, result) = Chat(
            "{\"choices\":[{\"index\":0,\"delta\":{\"content\":\"" + plain + "\"}}]}",
            "{\"choices\":[{\"index\":0,\"delta\":{\"content\":\"" + escaped + "\"}}]}");

        Assert.Equal([plain + string.Concat(Enumerable.Repeat("line\né\"", 10_000))], result.OutputSegments);
    }

    [Fact]
    public void Unknown_members_and_nested_objects_before_the_needed_ones_are_skipped()
    {
        // Look-alike names inside skipped objects (content, usage, model, index) must not be taken for the real ones.
        var (_, result) = Chat(
            """{"id":"c","extra":{"content":"no","usage":{"prompt_tokens":99},"model":"nope","index":7},"list":[{"delta":{"content":"no"}},[1,2,{"a":null}]],"model":"gpt-4o","choices":[{"logprobs":{"content":[{"token":"no","bytes":[1,2],"top_logprobs":[]}]},"index":0,"future":{"x":[true,false,null,1.5e3]},"delta":{"meta":{"content":"no"},"content":"yes","role":"assistant"}}],"usage":null}""");

        Assert.Equal(["yes"], result.OutputSegments);
        Assert.Equal("gpt-4o", result.ServedModel);
        Assert.Null(result.NativeUsage);
        Assert.False(result.Malformed);
    }

    [Fact]
    public void Member_order_does_not_matter()
    {
        // usage before choices (and still hidden), index after delta, choices out of order.
        var usageFirst = "data: {\"usage\":{\"completion_tokens\":2,\"prompt_tokens\":3},\"choices\":[],\"model\":\"m\"}\n\n";
        var stream = Sse(
            """{"choices":[{"delta":{"content":"b"},"index":1},{"delta":{"content":"a"},"index":0}],"model":"m"}""")
            + usageFirst + "data: [DONE]\n\n";
        var (client, result) = Tap.Whole(ApiSurface.OpenAIChatCompletions, Tap.EventStream, stream, hide: true);

        Assert.Equal(stream.Replace(usageFirst, string.Empty, StringComparison.Ordinal), Encoding.UTF8.GetString(client));
        Assert.Equal(["a", "b"], result.OutputSegments);
        Assert.Equal(new NativeUsage(3, 0, 0, 2, 0), result.NativeUsage);
        Assert.True(result.Complete);
    }

    [Fact]
    public void Anthropic_type_may_come_after_the_delta_and_index()
    {
        var stream = Event("content_block_delta", """{"delta":{"text":"Hi","type":"text_delta"},"index":1,"type":"content_block_delta"}""")
            + Event("content_block_delta", """{"index":0,"delta":{"partial_json":"{}","type":"input_json_delta"},"type":"content_block_delta"}""")
            + Event("message_delta", """{"usage":{"output_tokens":4},"type":"message_delta"}""");
        var (_, result) = Tap.Whole(ApiSurface.AnthropicMessages, Tap.EventStream, stream);

        Assert.Equal(["{}", "Hi"], result.OutputSegments);
        Assert.Equal(new NativeUsage(0, 0, 0, 4, 0), result.NativeUsage);
    }

    [Fact]
    public void Escaped_member_names_and_type_values_are_matched()
    {
        var (_, chat) = Chat("""{"ch\u006fices":[{"index":0,"delta":{"con\u0074ent":"ok"}}]}""");
        var (_, anthropic) = Tap.Whole(ApiSurface.AnthropicMessages, Tap.EventStream,
            Event("content_block_delta", """{"type":"content_block\u005fdelta","index":0,"delta":{"type":"text\u005fdelta","text":"ok"}}"""));

        Assert.Equal(["ok"], chat.OutputSegments);
        Assert.Equal(["ok"], anthropic.OutputSegments);
    }

    [Fact]
    public void A_later_duplicate_member_wins()
    {
        var (_, result) = Chat("""{"model":"first","model":"second","choices":[{"index":0,"delta":{"content":"a","content":"b"}}]}""");

        Assert.Equal(["b"], result.OutputSegments);
        Assert.Equal("second", result.ServedModel);

        var (_, choices) = Chat("""{"choices":[{"index":0,"delta":{"content":"x"},"delta":{"refusal":"y"}},{"index":2,"delta":{"content":"w"},"delta":null}],"choices":[{"index":1,"delta":{"content":"z"}}]}""");
        var (_, delta) = Chat("""{"choices":[{"index":0,"delta":{"content":"x"},"delta":{"refusal":"y"}},{"index":2,"delta":{"content":"w"},"delta":null}]}""");
        Assert.Equal(["z"], choices.OutputSegments);
        Assert.Equal(["y"], delta.OutputSegments);
    }

    [Theory]
    [InlineData("""{"choices":[{"index":0,"delta":{"content":"lost"}}]} trailing""")]
    [InlineData("""{"choices":[{"index":0,"delta":{"content":"lost"}}]}{}""")]
    [InlineData("""{"choices":[{"index":0,"delta":{"content":"lost"}}],""")]
    [InlineData("""{"choices":[{"index":0,"delta":{"content":"lost"}}],"usage":{"prompt_tokens":1,}}""")]
    [InlineData("""{"choices":[{"index":0,"delta":{"content":"lost\x"}}]}""")]
    [InlineData("")]
    public void A_malformed_event_is_flagged_and_contributes_nothing(string data)
    {
        var (_, result) = Chat(
            """{"model":"m","choices":[{"index":0,"delta":{"content":"kept"}}]}""",
            data,
            "[DONE]");

        Assert.True(result.Malformed);
        Assert.True(result.Complete);
        Assert.Equal(["kept"], result.OutputSegments);
        Assert.Null(result.NativeUsage);
        Assert.Equal("m", result.ServedModel);
    }

    [Theory]
    [InlineData("[1,2,3]")]
    [InlineData("42")]
    [InlineData("\"text\"")]
    [InlineData("null")]
    public void Valid_json_that_is_not_an_object_is_ignored_not_malformed(string data)
    {
        var (_, result) = Chat(data, """{"choices":[{"index":0,"delta":{"content":"ok"}}]}""");

        Assert.False(result.Malformed);
        Assert.Equal(["ok"], result.OutputSegments);
    }

    [Fact]
    public void Counts_that_are_not_plain_integers_are_brought_into_range_and_flagged()
    {
        var (_, chat) = Chat("""{"choices":[],"usage":{"prompt_tokens":1.0,"completion_tokens":99999999999999999999,"prompt_tokens_details":{"cached_tokens":"4"},"completion_tokens_details":{"reasoning_tokens":-2}}}""");
        var (_, anthropic) = Tap.Whole(ApiSurface.AnthropicMessages, Tap.EventStream,
            Event("message_start", """{"type":"message_start","message":{"usage":{"input_tokens":5,"output_tokens":1}}}""")
            + Event("message_delta", """{"type":"message_delta","usage":{"input_tokens":1e1,"output_tokens":7}}"""));

        // 1.0 is 1; an overflow is the cap, never 0; a string is absent; a negative is 0.
        Assert.Equal(new NativeUsage(1, 0, 0, 1_000_000_000_000, 0), chat.NativeUsage);
        Assert.True(chat.NativeUsageSuspect);
        Assert.Equal(new NativeUsage(10, 0, 0, 7, 0), anthropic.NativeUsage);
        Assert.True(anthropic.NativeUsageSuspect);
    }

    [Fact]
    public void Usage_members_of_the_wrong_type_are_ignored()
    {
        var (_, result) = Chat(
            """{"choices":[],"usage":{"prompt_tokens":5,"completion_tokens":3,"prompt_tokens_details":null,"completion_tokens_details":[1]}}""");

        Assert.Equal(new NativeUsage(5, 0, 0, 3, 0), result.NativeUsage);
        Assert.False(result.NativeUsageSuspect);
    }

    [Fact]
    public void Json_bodies_unescape_text_and_keep_tool_input_as_written()
    {
        var (_, openAI) = Tap.Whole(ApiSurface.OpenAIChatCompletions, Tap.Json,
            """{"model":"gpt-4o","choices":[{"index":0,"message":{"role":"assistant","content":"caf\u00e9\n\ud83d\ude00","tool_calls":[{"function":{"name":"f","arguments":"{\"a\":\"\\u00e9\"}"}}]}}]}""");
        var (_, anthropic) = Tap.Whole(ApiSurface.AnthropicMessages, Tap.Json,
            """{"model":"claude","content":[{"type":"tool_use","name":"f","input":{ "q" : "caf\u00e9", "n": [1, 2] }},"not a block",{"type":"tool_use","name":"g","input":null}],"usage":{"input_tokens":1,"output_tokens":2}}""");

        Assert.Equal(["café\n😀", "f", "{\"a\":\"\\u00e9\"}"], openAI.OutputSegments);
        Assert.Equal(["f", """{ "q" : "caf\u00e9", "n": [1, 2] }""", "g", "null"], anthropic.OutputSegments);
        Assert.True(anthropic.Complete);
    }

    [Fact]
    public void Error_codes_that_are_numbers_are_kept_as_written()
    {
        var (_, openAI) = Chat("""{"error":{"message":"x","code":429}}""");
        var (_, responses) = Tap.Whole(ApiSurface.OpenAIResponses, Tap.EventStream,
            Event("response.failed", """{"type":"response.failed","response":{"error":{"code":503,"message":"x"}}}"""));

        Assert.Equal("429", openAI.UpstreamError);
        Assert.Equal("503", responses.UpstreamError);
    }

    [Fact]
    public void Responses_final_output_replaces_the_deltas_and_empty_output_does_not()
    {
        var deltas = Event("response.output_text.delta", """{"type":"response.output_text.delta","output_index":0,"content_index":0,"delta":"draft"}""");
        var (_, replaced) = Tap.Whole(ApiSurface.OpenAIResponses, Tap.EventStream, deltas
            + Event("response.completed", """{"type":"response.completed","response":{"output":[{"type":"message","content":[{"type":"output_text","text":"final \u00e9"},{"type":"refusal","refusal":"no"},{"type":"other"}]}],"usage":{"input_tokens":1,"output_tokens":2}}}"""));
        var (_, kept) = Tap.Whole(ApiSurface.OpenAIResponses, Tap.EventStream, deltas
            + Event("response.incomplete", """{"type":"response.incomplete","response":{"output":[],"usage":{"input_tokens":1,"output_tokens":2}}}"""));

        Assert.Equal(["final é", "no"], replaced.OutputSegments);
        Assert.True(replaced.Complete);
        Assert.Equal(["draft"], kept.OutputSegments);
        Assert.True(kept.Complete);
        Assert.Equal(new NativeUsage(1, 0, 0, 2, 0), kept.NativeUsage);
    }

    [Fact]
    public void Many_streams_in_a_row_do_not_share_text()
    {
        // The accumulators rent pooled chars: a finished meter's text must not show up in the next one.
        for (var i = 0; i < 50; i++)
        {
            var (_, result) = Chat(
                "{\"choices\":[{\"index\":0,\"delta\":{\"content\":\"" + new string('a', 100 + i) + "\"}}]}",
                "{\"choices\":[{\"index\":0,\"delta\":{\"content\":\"" + i + "\"}}]}");
            Assert.Equal([new string('a', 100 + i) + i], result.OutputSegments);
        }
    }

    private static (byte[] Client, Metering.Responses.MeteredResponse Result) Chat(params string[] data) =>
        Tap.Whole(ApiSurface.OpenAIChatCompletions, Tap.EventStream, Sse(data));

    private static string Sse(params string[] data)
    {
        var builder = new StringBuilder();
        foreach (var item in data)
        {
            builder.Append("data: ").Append(item).Append("\n\n");
        }

        return builder.ToString();
    }

    private static string Event(string name, string data) => $"event: {name}\ndata: {data}\n\n";
}
