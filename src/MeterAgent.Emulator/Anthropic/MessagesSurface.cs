using System.Text.Json;
using MeterAgent.Emulator.Pipeline;

namespace MeterAgent.Emulator.Anthropic;

/// <summary>
/// POST /v1/messages: an Anthropic message, or the stream message_start, content_block_start, ping,
/// content_block_delta..., content_block_stop, message_delta, message_stop.
/// </summary>
internal sealed class MessagesSurface : ApiSurface
{
    public override ApiFlavor Flavor => ApiFlavor.Anthropic;

    public override string IdPrefix => "msg_";

    public override ReadOnlySpan<byte> DeltaEventName => "content_block_delta"u8;

    public override RequestError? Parse(JsonElement root, EmulatedRequest request)
    {
        if (EmulatorJson.ReadModel(root, request) is { } modelError)
        {
            return new RequestError("model: Field required");
        }

        if (EmulatorJson.GetPositiveInt(root, "max_tokens", out var max) is { } maxError)
        {
            return maxError;
        }

        if (max is null)
        {
            return new RequestError("max_tokens: Field required");
        }

        if (!root.TryGetProperty("messages"u8, out var messages) || messages.ValueKind != JsonValueKind.Array || messages.GetArrayLength() == 0)
        {
            return new RequestError("messages: Field required");
        }

        request.MaxTokens = max;
        if (root.TryGetProperty("system"u8, out var system))
        {
            request.Prompt.AddContent(system);
        }

        if (root.TryGetProperty("cache_control"u8, out var cacheControl) && cacheControl.ValueKind == JsonValueKind.Object)
        {
            request.Prompt.MarkCacheControl();
        }

        request.Prompt.AddMessages(messages);
        return null;
    }

    public override void WriteResponse(Utf8JsonWriter json, EmulatedRequest request)
    {
        json.WriteStartObject();
        WriteMessageHeader(json, request);
        json.WriteStartArray("content"u8);
        WriteTextBlock(json, request.Output.Text);
        json.WriteEndArray();
        json.WriteString("stop_reason"u8, StopReason(request));
        json.WriteNull("stop_sequence"u8);
        if (request.WriteUsage)
        {
            WriteUsage(json, request.Usage, request.Usage.CompletionTokens);
        }

        json.WriteEndObject();
    }

    public override void WriteStreamStart(SseWriter sse, EmulatedRequest request)
    {
        var json = Begin(sse, "message_start"u8);
        json.WriteStartObject("message"u8);
        WriteMessageHeader(json, request);
        json.WriteStartArray("content"u8);
        json.WriteEndArray();
        json.WriteNull("stop_reason"u8);
        json.WriteNull("stop_sequence"u8);
        if (request.WriteUsage)
        {
            // The real API reports the input side up front and a placeholder output count of 1.
            WriteUsage(json, request.Usage, outputTokens: 1);
        }

        json.WriteEndObject();
        End(sse);

        json = Begin(sse, "content_block_start"u8);
        json.WriteNumber("index"u8, 0);
        json.WritePropertyName("content_block"u8);
        WriteTextBlock(json, default);
        End(sse);

        Begin(sse, "ping"u8);
        End(sse);
    }

    public override void WriteStreamDelta(SseWriter sse, EmulatedRequest request, ReadOnlySpan<char> text)
    {
        var json = Begin(sse, "content_block_delta"u8);
        json.WriteNumber("index"u8, 0);
        json.WriteStartObject("delta"u8);
        json.WriteString("type"u8, "text_delta"u8);
        json.WriteGeneratedText("text"u8, text);
        json.WriteEndObject();
        End(sse);
    }

    public override void WriteStreamEnd(SseWriter sse, EmulatedRequest request)
    {
        var json = Begin(sse, "content_block_stop"u8);
        json.WriteNumber("index"u8, 0);
        End(sse);

        json = Begin(sse, "message_delta"u8);
        json.WriteStartObject("delta"u8);
        json.WriteString("stop_reason"u8, StopReason(request));
        json.WriteNull("stop_sequence"u8);
        json.WriteEndObject();
        if (request.WriteUsage)
        {
            // Cumulative, as the real API sends it: a meter may read usage from here alone.
            WriteUsage(json, request.Usage, request.Usage.CompletionTokens);
        }

        End(sse);

        Begin(sse, "message_stop"u8);
        End(sse);
    }

    private static ReadOnlySpan<byte> StopReason(EmulatedRequest request) => request.StoppedByLimit ? "max_tokens"u8 : "end_turn"u8;

    private static Utf8JsonWriter Begin(SseWriter sse, ReadOnlySpan<byte> type)
    {
        var json = sse.Begin(type);
        json.WriteStartObject();
        json.WriteString("type"u8, type);
        return json;
    }

    private static void End(SseWriter sse)
    {
        sse.Json.WriteEndObject();
        sse.End();
    }

    private static void WriteMessageHeader(Utf8JsonWriter json, EmulatedRequest request)
    {
        json.WriteString("id"u8, request.Id);
        json.WriteString("type"u8, "message"u8);
        json.WriteString("role"u8, "assistant"u8);
        json.WriteString("model"u8, request.Model);
    }

    private static void WriteTextBlock(Utf8JsonWriter json, ReadOnlySpan<char> text)
    {
        json.WriteStartObject();
        json.WriteString("type"u8, "text"u8);
        json.WriteGeneratedText("text"u8, text);
        json.WriteNull("citations"u8);
        json.WriteEndObject();
    }

    private static void WriteUsage(Utf8JsonWriter json, UsageNumbers usage, int outputTokens)
    {
        json.WriteStartObject("usage"u8);
        json.WriteNumber("input_tokens"u8, usage.AnthropicInputTokens);
        json.WriteNumber("cache_creation_input_tokens"u8, usage.CacheCreationTokens);
        json.WriteNumber("cache_read_input_tokens"u8, usage.CachedTokens);
        json.WriteStartObject("cache_creation"u8);
        json.WriteNumber("ephemeral_5m_input_tokens"u8, usage.CacheCreationTokens);
        json.WriteNumber("ephemeral_1h_input_tokens"u8, 0);
        json.WriteEndObject();
        json.WriteNumber("output_tokens"u8, outputTokens);
        json.WriteString("service_tier"u8, "standard"u8);
        json.WriteEndObject();
    }
}
