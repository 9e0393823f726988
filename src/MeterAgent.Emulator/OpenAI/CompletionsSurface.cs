using System.Text.Json;
using MeterAgent.Emulator.Pipeline;

namespace MeterAgent.Emulator.OpenAI;

/// <summary>POST /v1/completions (legacy): text_completion, whole or streamed, same include_usage rule as chat.</summary>
internal sealed class CompletionsSurface : ApiSurface
{
    public override ApiFlavor Flavor => ApiFlavor.OpenAI;

    public override string IdPrefix => "cmpl-";

    public override ReadOnlySpan<byte> DeltaEventName => default;

    public override RequestError? Parse(JsonElement root, EmulatedRequest request)
    {
        if (EmulatorJson.ReadModel(root, request) is { } modelError)
        {
            return modelError;
        }

        if (!root.TryGetProperty("prompt"u8, out var prompt) || prompt.ValueKind is not (JsonValueKind.String or JsonValueKind.Array))
        {
            return new RequestError("Missing required parameter: 'prompt'.", "prompt");
        }

        request.Prompt.AddContent(prompt);
        request.IncludeUsage = root.TryGetProperty("stream_options"u8, out var streamOptions)
            && streamOptions.ValueKind == JsonValueKind.Object
            && EmulatorJson.GetBool(streamOptions, "include_usage"u8);
        var error = EmulatorJson.GetPositiveInt(root, "max_tokens", out var max);
        request.MaxTokens = max;
        return error;
    }

    public override void WriteResponse(Utf8JsonWriter json, EmulatedRequest request)
    {
        json.WriteStartObject();
        WriteHeader(json, request);
        json.WriteStartArray("choices"u8);
        WriteChoice(json, request.Output.Text, ChatCompletionsSurface.FinishReason(request));
        json.WriteEndArray();
        if (request.WriteUsage)
        {
            OpenAIUsage.WriteCompletionUsage(json, request.Usage);
        }

        json.WriteEndObject();
    }

    public override void WriteStreamStart(SseWriter sse, EmulatedRequest request)
    {
        // Legacy completions have no role chunk: the first event already carries text.
    }

    public override void WriteStreamDelta(SseWriter sse, EmulatedRequest request, ReadOnlySpan<char> text) =>
        WriteChunk(sse, request, text, default);

    public override void WriteStreamEnd(SseWriter sse, EmulatedRequest request)
    {
        WriteChunk(sse, request, default, ChatCompletionsSurface.FinishReason(request));
        if (request.IncludeUsage && request.WriteUsage)
        {
            var json = sse.Begin(default);
            json.WriteStartObject();
            WriteHeader(json, request);
            json.WriteStartArray("choices"u8);
            json.WriteEndArray();
            OpenAIUsage.WriteCompletionUsage(json, request.Usage);
            json.WriteEndObject();
            sse.End();
        }

        sse.WriteRaw("data: [DONE]\n\n"u8);
    }

    private static void WriteChunk(SseWriter sse, EmulatedRequest request, ReadOnlySpan<char> text, ReadOnlySpan<byte> finishReason)
    {
        var json = sse.Begin(default);
        json.WriteStartObject();
        WriteHeader(json, request);
        json.WriteStartArray("choices"u8);
        WriteChoice(json, text, finishReason);
        json.WriteEndArray();
        if (request.IncludeUsage && request.WriteUsage)
        {
            json.WriteNull("usage"u8);
        }

        json.WriteEndObject();
        sse.End();
    }

    private static void WriteChoice(Utf8JsonWriter json, ReadOnlySpan<char> text, ReadOnlySpan<byte> finishReason)
    {
        json.WriteStartObject();
        json.WriteGeneratedText("text"u8, text);
        json.WriteNumber("index"u8, 0);
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
    }

    private static void WriteHeader(Utf8JsonWriter json, EmulatedRequest request)
    {
        json.WriteString("id"u8, request.Id);
        json.WriteString("object"u8, "text_completion"u8);
        json.WriteNumber("created"u8, EmulatedRequest.Created);
        json.WriteString("model"u8, request.Model);
        json.WriteString("system_fingerprint"u8, EmulatedRequest.SystemFingerprint);
    }
}
