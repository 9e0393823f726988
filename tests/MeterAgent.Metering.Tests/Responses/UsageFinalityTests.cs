using MeterAgent.Metering.Surfaces;
using MeterAgent.Metering.Usage;

namespace MeterAgent.Metering.Tests.Responses;

/// <summary>Whether the native usage is the upstream's last word or a placeholder / running count of a cut stream.</summary>
public sealed class UsageFinalityTests
{
    private const string MessageStart = """{"type":"message_start","message":{"model":"claude-sonnet-4-5","usage":{"input_tokens":20,"output_tokens":1}}}""";

    [Fact]
    public void Anthropic_stream_cut_after_message_start_and_deltas_has_placeholder_usage()
    {
        var stream = Event("message_start", MessageStart)
            + Event("content_block_start", """{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}""")
            + Event("content_block_delta", """{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"A long answer "}}""")
            + Event("content_block_delta", """{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"that was cut."}}""");
        var (_, result) = Tap.Whole(ApiSurface.AnthropicMessages, Tap.EventStream, stream);

        // What the upstream said is still reported, but flagged as not final.
        Assert.Equal(new NativeUsage(20, 0, 0, 1, 0), result.NativeUsage);
        Assert.False(result.NativeUsageFinal);
        Assert.False(result.Complete);
    }

    [Fact]
    public void Anthropic_stream_usage_is_final_after_a_message_delta_with_usage()
    {
        var stream = Event("message_start", MessageStart)
            + Event("content_block_delta", """{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hi"}}""")
            + Event("message_delta", """{"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":42}}""");
        var (_, result) = Tap.Whole(ApiSurface.AnthropicMessages, Tap.EventStream, stream);

        Assert.Equal(new NativeUsage(20, 0, 0, 42, 0), result.NativeUsage);
        Assert.True(result.NativeUsageFinal);
    }

    [Fact]
    public void Anthropic_message_delta_without_usage_is_not_final()
    {
        var stream = Event("message_start", MessageStart)
            + Event("message_delta", """{"type":"message_delta","delta":{"stop_reason":"end_turn"}}""");
        var (_, result) = Tap.Whole(ApiSurface.AnthropicMessages, Tap.EventStream, stream);

        Assert.False(result.NativeUsageFinal);
    }

    [Fact]
    public void Json_bodies_have_final_usage_and_no_usage_is_never_final()
    {
        var (_, anthropic) = Tap.Whole(ApiSurface.AnthropicMessages, Tap.Json,
            """{"model":"c","content":[{"type":"text","text":"x"}],"usage":{"input_tokens":3,"output_tokens":4}}""");
        var (_, openAI) = Tap.Whole(ApiSurface.OpenAIChatCompletions, Tap.Json,
            """{"model":"m","choices":[{"index":0,"message":{"content":"x"}}],"usage":{"prompt_tokens":3,"completion_tokens":4}}""");
        var (_, none) = Tap.Whole(ApiSurface.OpenAIChatCompletions, Tap.Json, """{"model":"m","choices":[]}""");

        Assert.True(anthropic.NativeUsageFinal);
        Assert.True(openAI.NativeUsageFinal);
        Assert.Null(none.NativeUsage);
        Assert.False(none.NativeUsageFinal);
    }

    [Fact]
    public void OpenAI_stream_usage_chunk_is_final_but_running_usage_of_a_cut_stream_is_not()
    {
        var (_, final) = Tap.Whole(ApiSurface.OpenAIChatCompletions, Tap.EventStream, Sse(
            """{"model":"m","choices":[{"index":0,"delta":{"content":"x"}}]}""",
            """{"model":"m","choices":[],"usage":{"prompt_tokens":3,"completion_tokens":4}}"""));
        var (_, running) = Tap.Whole(ApiSurface.OpenAIChatCompletions, Tap.EventStream, Sse(
            """{"model":"m","choices":[{"index":0,"delta":{"content":"x"}}],"usage":{"prompt_tokens":3,"completion_tokens":1}}"""));
        var (_, done) = Tap.Whole(ApiSurface.OpenAIChatCompletions, Tap.EventStream, Sse(
            """{"model":"m","choices":[{"index":0,"delta":{"content":"x"}}],"usage":{"prompt_tokens":3,"completion_tokens":1}}""",
            "[DONE]"));

        Assert.True(final.NativeUsageFinal);
        Assert.False(running.NativeUsageFinal);
        Assert.True(done.NativeUsageFinal);
    }

    [Fact]
    public void Responses_usage_is_final_on_the_terminal_event()
    {
        var (_, result) = Tap.Whole(ApiSurface.OpenAIResponses, Tap.EventStream,
            Event("response.created", """{"type":"response.created","response":{"model":"gpt-4.1"}}""")
            + Event("response.completed", """{"type":"response.completed","response":{"model":"gpt-4.1","output":[],"usage":{"input_tokens":5,"output_tokens":6}}}"""));
        var (_, cut) = Tap.Whole(ApiSurface.OpenAIResponses, Tap.EventStream,
            Event("response.created", """{"type":"response.created","response":{"model":"gpt-4.1"}}"""));

        Assert.True(result.NativeUsageFinal);
        Assert.Equal(new NativeUsage(5, 0, 0, 6, 0), result.NativeUsage);
        Assert.False(cut.NativeUsageFinal);
    }

    private static string Sse(params string[] data) => string.Concat(data.Select(item => $"data: {item}\n\n"));

    private static string Event(string name, string data) => $"event: {name}\ndata: {data}\n\n";
}
