using System.Text.Json;
using MeterAgent.Metering.Canonical;
using MeterAgent.Metering.Surfaces;
using MeterAgent.Metering.Usage;

namespace MeterAgent.Metering.Responses.Readers;

/// <summary>What one surface's responses mean: usage, served model, output text, terminal and error events.</summary>
internal abstract class ResponseReader
{
    public NativeUsage? Usage { get; protected set; }

    public string? ServedModel { get; protected set; }

    public bool Complete { get; protected set; }

    public string? UpstreamError { get; protected set; }

    public bool SawFirstToken { get; protected set; }

    public static ResponseReader For(ApiSurface surface) => surface switch
    {
        ApiSurface.OpenAIResponses => new OpenAIResponsesReader(),
        ApiSurface.AnthropicMessages => new AnthropicMessagesReader(),
        ApiSurface.OpenAICompletions => new OpenAIChoicesReader(completions: true),
        _ => new OpenAIChoicesReader(completions: false),
    };

    /// <summary>A data line that is not JSON but means something (OpenAI's "[DONE]"). Returns false when it is not one.</summary>
    public virtual bool OnSentinel(ReadOnlySpan<byte> data) => false;

    /// <summary>One SSE event whose data parsed as JSON. Returns true when the event is the usage-only chunk a client did not ask for.</summary>
    public abstract bool OnEvent(ReadOnlySpan<byte> eventName, JsonElement data);

    /// <summary>A whole non-streaming JSON body.</summary>
    public abstract void OnBody(JsonElement root);

    /// <summary>The canonical output segments seen so far, in docs/canonical-text.md order.</summary>
    public abstract void CollectOutput(SegmentList segments);

    protected void SeeModel(JsonElement owner)
    {
        if (ServedModel is null && Json.String(owner, "model"u8) is { Length: > 0 } model)
        {
            ServedModel = model;
        }
    }

    /// <summary>An error object's type, else its code, so a record says what kind of failure it was.</summary>
    protected static string ErrorName(JsonElement error)
    {
        if (Json.String(error, "type"u8) is { Length: > 0 } type)
        {
            return type;
        }

        if (error.ValueKind == JsonValueKind.Object && error.TryGetProperty("code"u8, out var code)
            && code.ValueKind is JsonValueKind.String or JsonValueKind.Number)
        {
            return code.ValueKind == JsonValueKind.String ? code.GetString() ?? "error" : code.GetRawText();
        }

        return "error";
    }

    protected void SeeText(string? text)
    {
        if (!string.IsNullOrEmpty(text))
        {
            SawFirstToken = true;
        }
    }
}
