using System.Text;
using MeterAgent.Metering.Surfaces;
using MeterAgent.Metering.Usage;

namespace MeterAgent.Metering.Tests.Responses;

/// <summary>Native usage normalisation, served model and canonical output per surface, streamed and not, with equal segments both ways.</summary>
public sealed class SurfaceResponseTests
{
    [Fact]
    public void OpenAI_chat_json_with_tool_calls_and_refusal()
    {
        const string body = """
            {"id":"c","object":"chat.completion","model":"gpt-4o-2024-08-06","choices":[
              {"index":1,"message":{"role":"assistant","content":"second"}},
              {"index":0,"message":{"role":"assistant","content":"Hi there","refusal":null,"tool_calls":[
                {"id":"t1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}},
                {"id":"t2","type":"function","function":{"name":"get_time","arguments":"{}"}}]}}],
             "usage":{"prompt_tokens":100,"completion_tokens":50,"total_tokens":150,
               "prompt_tokens_details":{"cached_tokens":60},"completion_tokens_details":{"reasoning_tokens":20}}}
            """;
        var (_, result) = Tap.Whole(ApiSurface.OpenAIChatCompletions, Tap.Json, body);

        Assert.True(result.Complete);
        Assert.Equal("gpt-4o-2024-08-06", result.ServedModel);
        Assert.Equal(new NativeUsage(100, 60, 0, 50, 20), result.NativeUsage);
        Assert.Equal(["Hi there", "get_weather", "{\"city\":\"Paris\"}", "get_time", "{}", "second"], result.OutputSegments);
    }

    [Fact]
    public void OpenAI_chat_stream_with_tool_call_deltas_equals_the_json_segments()
    {
        var stream = Sse(
            """{"model":"gpt-4o","choices":[{"index":0,"delta":{"role":"assistant","content":null,"tool_calls":[{"index":0,"id":"t1","type":"function","function":{"name":"get_weather","arguments":""}}]}}]}""",
            """{"model":"gpt-4o","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"city\":"}}]}}]}""",
            """{"model":"gpt-4o","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"\"Paris\"}"}}]}}]}""",
            """{"model":"gpt-4o","choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"id":"t2","type":"function","function":{"name":"get_time","arguments":"{}"}}]}}]}""",
            """{"model":"gpt-4o","choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}""",
            """{"model":"gpt-4o","choices":[],"usage":{"prompt_tokens":10,"completion_tokens":5,"prompt_tokens_details":{"cached_tokens":0},"completion_tokens_details":{"reasoning_tokens":0}}}""",
            "[DONE]");
        var (_, result) = Tap.Whole(ApiSurface.OpenAIChatCompletions, Tap.EventStream, stream);

        Assert.True(result.Complete);
        Assert.Equal(new NativeUsage(10, 0, 0, 5, 0), result.NativeUsage);
        Assert.Equal(["get_weather", "{\"city\":\"Paris\"}", "get_time", "{}"], result.OutputSegments);
    }

    [Fact]
    public void OpenAI_chat_stream_refusal_deltas_are_output_and_first_tokens()
    {
        var stream = Sse(
            """{"model":"gpt-4o","choices":[{"index":0,"delta":{"role":"assistant","content":null,"refusal":""}}]}""",
            """{"model":"gpt-4o","choices":[{"index":0,"delta":{"refusal":"I can't "}}]}""",
            """{"model":"gpt-4o","choices":[{"index":0,"delta":{"refusal":"help."}}]}""",
            "[DONE]");
        var (_, result) = Tap.Whole(ApiSurface.OpenAIChatCompletions, Tap.EventStream, stream);

        Assert.Equal(["I can't help."], result.OutputSegments);
        Assert.Null(result.NativeUsage);
    }

    [Fact]
    public void OpenAI_completions_json_and_stream()
    {
        var (_, json) = Tap.Whole(ApiSurface.OpenAICompletions, Tap.Json,
            """{"model":"gpt-3.5-turbo-instruct","choices":[{"index":0,"text":"Hello world"}],"usage":{"prompt_tokens":3,"completion_tokens":2}}""");
        var (_, stream) = Tap.Whole(ApiSurface.OpenAICompletions, Tap.EventStream, Sse(
            """{"model":"gpt-3.5-turbo-instruct","choices":[{"index":0,"text":"Hello"}]}""",
            """{"model":"gpt-3.5-turbo-instruct","choices":[{"index":0,"text":" world"}]}""",
            """{"model":"gpt-3.5-turbo-instruct","choices":[],"usage":{"prompt_tokens":3,"completion_tokens":2}}""",
            "[DONE]"));

        Assert.Equal(new NativeUsage(3, 0, 0, 2, 0), json.NativeUsage);
        Assert.Equal(json.NativeUsage, stream.NativeUsage);
        Assert.Equal(["Hello world"], json.OutputSegments);
        Assert.Equal(json.OutputSegments, stream.OutputSegments);
        Assert.True(stream.Complete);
    }

    [Fact]
    public void OpenAI_embeddings_usage()
    {
        var (_, result) = Tap.Whole(ApiSurface.OpenAIEmbeddings, Tap.Json,
            """{"object":"list","data":[{"object":"embedding","index":0,"embedding":[0.1,0.2]}],"model":"text-embedding-3-small","usage":{"prompt_tokens":8,"total_tokens":8}}""");

        Assert.Equal(new NativeUsage(8, 0, 0, 0, 0), result.NativeUsage);
        Assert.Equal("text-embedding-3-small", result.ServedModel);
        Assert.Empty(result.OutputSegments);
        Assert.True(result.Complete);
    }

    [Fact]
    public void OpenAI_responses_json_and_stream_agree()
    {
        const string response = """
            {"id":"resp_1","object":"response","status":"completed","model":"o4-mini-2025-04-16","output":[
              {"type":"reasoning","id":"rs_1","summary":[]},
              {"type":"message","id":"msg_1","role":"assistant","content":[{"type":"output_text","text":"Bonjour à tous","annotations":[]}]},
              {"type":"function_call","id":"fc_1","call_id":"call_1","name":"lookup","arguments":"{\"q\":\"x\"}"}],
             "usage":{"input_tokens":200,"input_tokens_details":{"cached_tokens":128},"output_tokens":90,"output_tokens_details":{"reasoning_tokens":64},"total_tokens":290}}
            """;
        var (_, json) = Tap.Whole(ApiSurface.OpenAIResponses, Tap.Json, response);

        var compact = response.Replace("\n", string.Empty, StringComparison.Ordinal);
        var stream = Event("response.created", """{"type":"response.created","response":{"id":"resp_1","model":"o4-mini-2025-04-16","output":[],"usage":null}}""")
            + Event("response.output_item.added", """{"type":"response.output_item.added","output_index":1,"item":{"type":"message","id":"msg_1","content":[]}}""")
            + Event("response.output_text.delta", """{"type":"response.output_text.delta","output_index":1,"content_index":0,"delta":"Bonjour"}""")
            + Event("response.output_text.delta", """{"type":"response.output_text.delta","output_index":1,"content_index":0,"delta":" à tous"}""")
            + Event("response.output_item.added", """{"type":"response.output_item.added","output_index":2,"item":{"type":"function_call","name":"lookup","arguments":""}}""")
            + Event("response.function_call_arguments.delta", """{"type":"response.function_call_arguments.delta","output_index":2,"delta":"{\"q\":\"x\"}"}""")
            + Event("response.completed", "{\"type\":\"response.completed\",\"response\":" + compact + "}");
        var (_, streamed) = Tap.Whole(ApiSurface.OpenAIResponses, Tap.EventStream, stream);

        // Deltas alone (no final output) give the same segments too.
        var deltasOnly = stream[..stream.IndexOf("event: response.completed", StringComparison.Ordinal)];
        var (_, partial) = Tap.Whole(ApiSurface.OpenAIResponses, Tap.EventStream, deltasOnly);

        Assert.Equal(new NativeUsage(200, 128, 0, 90, 64), json.NativeUsage);
        Assert.Equal(["Bonjour à tous", "lookup", "{\"q\":\"x\"}"], json.OutputSegments);
        Assert.Equal("o4-mini-2025-04-16", json.ServedModel);
        Assert.Equal(json.NativeUsage, streamed.NativeUsage);
        Assert.Equal(json.OutputSegments, streamed.OutputSegments);
        Assert.True(streamed.Complete);
        Assert.Equal(json.OutputSegments, partial.OutputSegments);
        Assert.False(partial.Complete);
        Assert.True(Tap.SawFirstToken(ApiSurface.OpenAIResponses, Tap.EventStream, deltasOnly));
    }

    [Fact]
    public void OpenAI_responses_failed_and_error_events_are_upstream_errors()
    {
        var (_, failed) = Tap.Whole(ApiSurface.OpenAIResponses, Tap.EventStream, Event("response.failed",
            """{"type":"response.failed","response":{"model":"gpt-4.1","status":"failed","error":{"code":"server_error","message":"x"},"output":[],"usage":null}}"""));
        var (_, error) = Tap.Whole(ApiSurface.OpenAIResponses, Tap.EventStream, Event("error",
            """{"type":"error","code":"rate_limit_exceeded","message":"slow down","param":null}"""));

        Assert.Equal("server_error", failed.UpstreamError);
        Assert.False(failed.Complete);
        Assert.Equal("rate_limit_exceeded", error.UpstreamError);
    }

    [Fact]
    public void Anthropic_json_normalises_cache_reads_and_writes_into_input()
    {
        const string body = """
            {"id":"msg_1","type":"message","role":"assistant","model":"claude-sonnet-4-5-20250929","content":[
              {"type":"thinking","thinking":"hidden","signature":"s"},
              {"type":"text","text":"Let me check."},
              {"type":"tool_use","id":"tu_1","name":"get_weather","input":{"city":"Paris"}}],
             "stop_reason":"tool_use","usage":{"input_tokens":20,"cache_creation_input_tokens":1000,"cache_read_input_tokens":3000,"output_tokens":80}}
            """;
        var (_, result) = Tap.Whole(ApiSurface.AnthropicMessages, Tap.Json, body);

        Assert.Equal(new NativeUsage(4020, 3000, 1000, 80, 0), result.NativeUsage);
        Assert.Equal("claude-sonnet-4-5-20250929", result.ServedModel);
        Assert.Equal(["Let me check.", "get_weather", "{\"city\":\"Paris\"}"], result.OutputSegments);
        Assert.True(result.Complete);
    }

    [Fact]
    public void Anthropic_stream_takes_the_latest_cumulative_usage()
    {
        var stream = Event("message_start", """{"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","model":"claude-sonnet-4-5","content":[],"usage":{"input_tokens":20,"cache_creation_input_tokens":1000,"cache_read_input_tokens":3000,"output_tokens":1}}}""")
            + Event("content_block_start", """{"type":"content_block_start","index":0,"content_block":{"type":"thinking","thinking":""}}""")
            + Event("content_block_delta", """{"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"hidden"}}""")
            + Event("ping", """{"type":"ping"}""")
            + Event("content_block_start", """{"type":"content_block_start","index":1,"content_block":{"type":"text","text":""}}""")
            + Event("content_block_delta", """{"type":"content_block_delta","index":1,"delta":{"type":"text_delta","text":"Let me "}}""")
            + Event("content_block_delta", """{"type":"content_block_delta","index":1,"delta":{"type":"text_delta","text":"check."}}""")
            + Event("content_block_start", """{"type":"content_block_start","index":2,"content_block":{"type":"tool_use","id":"tu_1","name":"get_weather","input":{}}}""")
            + Event("content_block_delta", """{"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta","partial_json":"{\"city\":"}}""")
            + Event("content_block_delta", """{"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta","partial_json":"\"Paris\"}"}}""")
            + Event("message_delta", """{"type":"message_delta","delta":{"stop_reason":"tool_use"},"usage":{"output_tokens":80}}""")
            + Event("message_stop", """{"type":"message_stop"}""");
        var (client, result) = Tap.Whole(ApiSurface.AnthropicMessages, Tap.EventStream, stream, hide: true);

        Assert.Equal(stream, Encoding.UTF8.GetString(client));
        Assert.Equal(new NativeUsage(4020, 3000, 1000, 80, 0), result.NativeUsage);
        Assert.Equal(["Let me check.", "get_weather", "{\"city\":\"Paris\"}"], result.OutputSegments);
        Assert.True(result.Complete);
    }

    [Fact]
    public void Anthropic_message_delta_input_fields_override_message_start()
    {
        var stream = Event("message_start", """{"type":"message_start","message":{"model":"claude-haiku-4-5","usage":{"input_tokens":5,"output_tokens":1}}}""")
            + Event("message_delta", """{"type":"message_delta","usage":{"input_tokens":7,"cache_read_input_tokens":2,"output_tokens":9}}""");
        var (_, result) = Tap.Whole(ApiSurface.AnthropicMessages, Tap.EventStream, stream);

        Assert.Equal(new NativeUsage(9, 2, 0, 9, 0), result.NativeUsage);
        Assert.False(result.Complete);
    }

    [Fact]
    public void Anthropic_error_event_and_error_body()
    {
        var (_, stream) = Tap.Whole(ApiSurface.AnthropicMessages, Tap.EventStream,
            Event("error", """{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"""));
        var (_, body) = Tap.Whole(ApiSurface.AnthropicMessages, Tap.Json,
            """{"type":"error","error":{"type":"rate_limit_error","message":"slow"}}""");

        Assert.Equal("overloaded_error", stream.UpstreamError);
        Assert.Equal("rate_limit_error", body.UpstreamError);
        Assert.False(Tap.SawFirstToken(ApiSurface.AnthropicMessages, Tap.Json, """{"type":"error","error":{"type":"rate_limit_error","message":"slow"}}"""));
        Assert.True(Tap.SawFirstToken(ApiSurface.AnthropicMessages, Tap.EventStream, Event("content_block_delta", """{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"x"}}""")));
        Assert.False(Tap.SawFirstToken(ApiSurface.AnthropicMessages, Tap.EventStream, Event("content_block_delta", """{"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"x"}}""")));
    }

    [Fact]
    public void OpenAI_error_data_and_body()
    {
        var (_, stream) = Tap.Whole(ApiSurface.OpenAIChatCompletions, Tap.EventStream,
            Sse("""{"error":{"message":"boom","type":"server_error","code":null}}"""));
        var (_, body) = Tap.Whole(ApiSurface.OpenAIChatCompletions, Tap.Json,
            """{"error":{"message":"Rate limit","type":"requests","code":"rate_limit_exceeded"}}""");

        Assert.Equal("server_error", stream.UpstreamError);
        Assert.Equal("requests", body.UpstreamError);
        Assert.Null(body.NativeUsage);
    }

    [Fact]
    public void Non_json_event_data_and_truncated_bodies_are_malformed()
    {
        var (_, stream) = Tap.Whole(ApiSurface.OpenAIChatCompletions, Tap.EventStream,
            Sse("""{"model":"m","choices":[{"index":0,"delta":{"content":"ok"}}]}""", "not json", "[DONE]"));
        var (_, body) = Tap.Whole(ApiSurface.OpenAIChatCompletions, Tap.Json, """{"model":"m","choices":[{"ind""");

        Assert.True(stream.Malformed);
        Assert.True(stream.Complete);
        Assert.Equal(["ok"], stream.OutputSegments);
        Assert.True(body.Malformed);
        Assert.False(body.Complete);
    }

    [Fact]
    public void Other_content_types_pass_through_unmetered()
    {
        var (client, result) = Tap.Whole(ApiSurface.OpenAIChatCompletions, "text/plain", "upstream said no");

        Assert.Equal("upstream said no", Encoding.UTF8.GetString(client));
        Assert.Null(result.NativeUsage);
        Assert.False(result.Complete);
    }

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
