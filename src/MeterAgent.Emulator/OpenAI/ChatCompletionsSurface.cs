using System.Text.Json;
using MeterAgent.Emulator.Pipeline;

namespace MeterAgent.Emulator.OpenAI;

/// <summary>POST /v1/chat/completions: chat.completion, or chat.completion.chunk events ending in [DONE].</summary>
internal sealed class ChatCompletionsSurface : ApiSurface
{
    public override ApiFlavor Flavor => ApiFlavor.OpenAI;

    public override string IdPrefix => "chatcmpl-";

    public override ReadOnlySpan<byte> DeltaEventName => default;

    public override RequestError? Parse(JsonElement root, EmulatedRequest request)
    {
        if (EmulatorJson.ReadModel(root, request) is { } modelError)
        {
            return modelError;
        }

        if (!root.TryGetProperty("messages"u8, out var messages) || messages.ValueKind != JsonValueKind.Array || messages.GetArrayLength() == 0)
        {
            return new RequestError("Missing required parameter: 'messages'.", "messages");
        }

        request.Prompt.AddMessages(messages);
        request.IncludeUsage = root.TryGetProperty("stream_options"u8, out var streamOptions)
            && streamOptions.ValueKind == JsonValueKind.Object
            && EmulatorJson.GetBool(streamOptions, "include_usage"u8);
        if (EmulatorJson.GetPositiveInt(root, "max_completion_tokens", out var max) is { } maxError)
        {
            return maxError;
        }

        var error = EmulatorJson.GetPositiveInt(root, "max_tokens", out var legacyMax);
        request.MaxTokens = max ?? legacyMax;
        return error;
    }

    public override void WriteResponse(Utf8JsonWriter json, EmulatedRequest request)
    {
        json.WriteStartObject();
        WriteHeader(json, request, "chat.completion"u8);
        json.WriteStartArray("choices"u8);
        json.WriteStartObject();
        json.WriteNumber("index"u8, 0);
        json.WriteStartObject("message"u8);
        json.WriteString("role"u8, "assistant"u8);
        json.WriteGeneratedText("content"u8, request.Output.Text);
        json.WriteNull("refusal"u8);
        json.WriteStartArray("annotations"u8);
        json.WriteEndArray();
        json.WriteEndObject();
        json.WriteNull("logprobs"u8);
        json.WriteString("finish_reason"u8, FinishReason(request));
        json.WriteEndObject();
        json.WriteEndArray();
        if (request.WriteUsage)
        {
            OpenAIUsage.WriteCompletionUsage(json, request.Usage);
        }

        json.WriteEndObject();
    }

    public override void WriteStreamStart(SseWriter sse, EmulatedRequest request)
    {
        var json = BeginChunk(sse, request);
        json.WriteStartObject("delta"u8);
        json.WriteString("role"u8, "assistant"u8);
        json.WriteString("content"u8, ""u8);
        json.WriteNull("refusal"u8);
        json.WriteEndObject();
        EndChunk(sse, request, finishReason: default);
    }

    public override void WriteStreamDelta(SseWriter sse, EmulatedRequest request, ReadOnlySpan<char> text)
    {
        var json = BeginChunk(sse, request);
        json.WriteStartObject("delta"u8);
        json.WriteGeneratedText("content"u8, text);
        json.WriteEndObject();
        EndChunk(sse, request, finishReason: default);
    }

    public override void WriteStreamEnd(SseWriter sse, EmulatedRequest request)
    {
        var json = BeginChunk(sse, request);
        json.WriteStartObject("delta"u8);
        json.WriteEndObject();
        EndChunk(sse, request, FinishReason(request));
        if (request.IncludeUsage && request.WriteUsage)
        {
            json = sse.Begin(default);
            json.WriteStartObject();
            WriteHeader(json, request, "chat.completion.chunk"u8);
            json.WriteStartArray("choices"u8);
            json.WriteEndArray();
            OpenAIUsage.WriteCompletionUsage(json, request.Usage);
            json.WriteEndObject();
            sse.End();
        }

        sse.WriteRaw("data: [DONE]\n\n"u8);
    }

    internal static ReadOnlySpan<byte> FinishReason(EmulatedRequest request) => request.StoppedByLimit ? "length"u8 : "stop"u8;

    private static void WriteHeader(Utf8JsonWriter json, EmulatedRequest request, ReadOnlySpan<byte> objectType)
    {
        json.WriteString("id"u8, request.Id);
        json.WriteString("object"u8, objectType);
        json.WriteNumber("created"u8, EmulatedRequest.Created);
        json.WriteString("model"u8, request.Model);
        json.WriteString("service_tier"u8, "default"u8);
        json.WriteString("system_fingerprint"u8, EmulatedRequest.SystemFingerprint);
    }

    private static Utf8JsonWriter BeginChunk(SseWriter sse, EmulatedRequest request)
    {
        var json = sse.Begin(default);
        json.WriteStartObject();
        WriteHeader(json, request, "chat.completion.chunk"u8);
        json.WriteStartArray("choices"u8);
        json.WriteStartObject();
        json.WriteNumber("index"u8, 0);
        return json;
    }

    private static void EndChunk(SseWriter sse, EmulatedRequest request, ReadOnlySpan<byte> finishReason)
    {
        var json = sse.Json;
        json.WriteNull("logprobs"u8);
        if (finishReason.IsEmpty)
        {
            json.WriteNull("finish_reason"u8);
        }
        else
        {
            json.WriteString("finish_reason"u8, finishReason);
        }

        json.WriteEndObject();
        json.WriteEndArray();
        if (request.IncludeUsage && request.WriteUsage)
        {
            // With include_usage the real API sends "usage": null on every chunk but the last.
            json.WriteNull("usage"u8);
        }

        json.WriteEndObject();
        sse.End();
    }
}
