using System.Text.Json;
using MeterAgent.Metering.Canonical;
using MeterAgent.Metering.Surfaces;
using MeterAgent.Metering.Usage;

namespace MeterAgent.Metering.Responses.Readers;

/// <summary>
/// What one surface's responses mean: usage, served model, output text, terminal and error events. Reads the raw UTF-8
/// of each event with a <see cref="JsonCursor"/>; <see cref="Dispose"/> returns the pooled output text.
/// </summary>
internal abstract class ResponseReader(TextBudget budget) : IDisposable
{
    public NativeUsage? Usage { get; protected set; }

    /// <summary>The usage came from the surface's final report (see <see cref="MeteredResponse.NativeUsageFinal"/>).</summary>
    public bool UsageFinal { get; protected set; }

    /// <summary>Some usage count this response reported was out of range, of the wrong kind or contradictory (sticky).</summary>
    public bool UsageSuspect { get; protected set; }

    public string? ServedModel { get; protected set; }

    public bool Complete { get; protected set; }

    public string? UpstreamError { get; protected set; }

    public bool SawFirstToken { get; protected set; }

    /// <summary>Output text past the budget was dropped.</summary>
    public bool TextTruncated => Budget.Exceeded;

    /// <summary>Shared by every text part of the response.</summary>
    protected TextBudget Budget { get; } = budget;

    public static ResponseReader For(ApiSurface surface, int maxTextChars)
    {
        var budget = new TextBudget(maxTextChars);
        return surface switch
        {
            ApiSurface.OpenAIResponses => new OpenAIResponsesReader(budget),
            ApiSurface.AnthropicMessages => new AnthropicMessagesReader(budget),
            ApiSurface.OpenAICompletions => new OpenAIChoicesReader(budget, completions: true),
            _ => new OpenAIChoicesReader(budget, completions: false),
        };
    }

    /// <summary>A data line that is not JSON but means something (OpenAI's "[DONE]"). Returns false when it is not one.</summary>
    public virtual bool OnSentinel(ReadOnlySpan<byte> data) => false;

    /// <summary>One SSE event's data. Returns true when the event is the usage-only chunk a client did not ask for.</summary>
    /// <exception cref="JsonException">The data is not JSON; nothing was taken from it.</exception>
    public abstract bool OnEvent(ReadOnlySpan<byte> eventName, ReadOnlySpan<byte> data);

    /// <summary>A whole non-streaming JSON body.</summary>
    /// <exception cref="JsonException">The body is not JSON; nothing was taken from it.</exception>
    public abstract void OnBody(ReadOnlySpan<byte> body);

    /// <summary>The canonical output segments seen so far, in docs/canonical-text.md order.</summary>
    public abstract void CollectOutput(ref SegmentList segments);

    public abstract void Dispose();

    /// <summary>The first non-empty model string wins; later ones are not even unescaped.</summary>
    protected void SeeModel(ReadOnlySpan<byte> data, JsonRef model)
    {
        if (ServedModel is null && model.IsNonEmptyString)
        {
            ServedModel = model.Escaped ? model.String(data) : Requests.ModelNames.Get(model.StringBytes(data));
        }
    }

    /// <summary>An error object's type, else its code, so a record says what kind of failure it was.</summary>
    protected static string ErrorName(ReadOnlySpan<byte> data, JsonRef error)
    {
        var (type, code) = TypeAndCode(data, error);
        return ErrorName(data, type, code);
    }

    /// <summary><see cref="ErrorName(ReadOnlySpan{byte}, JsonRef)"/> from an error object's members already noted.</summary>
    protected static string ErrorName(ReadOnlySpan<byte> data, JsonRef type, JsonRef code)
    {
        if (type.IsNonEmptyString)
        {
            return type.String(data)!;
        }

        return code.Kind switch
        {
            JsonTokenType.String => code.String(data)!,
            JsonTokenType.Number => code.RawText(data),
            _ => "error",
        };
    }

    protected static (JsonRef Type, JsonRef Code) TypeAndCode(ReadOnlySpan<byte> data, JsonRef error)
    {
        JsonRef type = default, code = default;
        if (error.IsObject)
        {
            var cursor = JsonCursor.Open(data, error);
            while (cursor.NextMember())
            {
                _ = cursor.Take("type"u8, ref type) || cursor.Take("code"u8, ref code) || cursor.Skip();
            }
        }

        return (type, code);
    }

    /// <summary>Reads an OpenAI usage object (Responses API or the others), noting whether it was suspect.</summary>
    protected NativeUsage OpenAIUsage(ReadOnlySpan<byte> data, JsonRef usage, bool responsesApi)
    {
        var suspect = false;
        var result = UsageNormalizer.FromOpenAI(data, usage, responsesApi, ref suspect);
        UsageSuspect |= suspect;
        return result;
    }

    /// <summary>One count of a usage object, clamped (<see cref="UsageCount"/>); null when absent.</summary>
    protected long? UsageCountOf(ReadOnlySpan<byte> data, JsonRef value)
    {
        var suspect = false;
        var count = UsageCount.Read(data, value, ref suspect);
        UsageSuspect |= suspect;
        return count;
    }

    protected void SeeText(bool added)
    {
        if (added)
        {
            SawFirstToken = true;
        }
    }
}
