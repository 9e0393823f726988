using System.Buffers;
using System.Runtime.InteropServices;
using System.Text.Json;
using MeterAgent.Metering.Canonical;
using MeterAgent.Metering.Surfaces;
using MeterAgent.Metering.Tokenization;

namespace MeterAgent.Metering.Requests;

/// <summary>Reads model, stream flag, max output and the canonical input text from a request body with Utf8JsonReader / JsonDocument.</summary>
public static class RequestParser
{
    private static readonly JsonDocumentOptions DocumentOptions = new() { MaxDepth = DuplicateMember.MaxDepth, AllowDuplicateProperties = false };

    /// <summary>
    /// Malformed JSON, a non-object body, a missing/empty "model", a member name repeated in any object (readers
    /// disagree on which one counts), or a metered member of the wrong type (<see cref="RequestFieldTypes"/>) give an
    /// invalid result with a message a client can act on and, where one member is at fault, its path as the param.
    /// </summary>
    public static RequestParseResult Parse(ApiSurface surface, ReadOnlySpan<byte> utf8Json) => Parse(surface, utf8Json, counter: null);

    /// <param name="surface">the request's API</param>
    /// <param name="utf8Json">its body</param>
    /// <param name="counter">
    /// counts the input's short text as it is parsed (<see cref="ParsedRequest.InputTokensCounted"/>) rather than keeping
    /// it among <see cref="ParsedRequest.InputSegments"/>; null keeps every segment
    /// </param>
    public static RequestParseResult Parse(ApiSurface surface, ReadOnlySpan<byte> utf8Json, ReferenceTokenizer? counter)
    {
        if (utf8Json.IsEmpty)
        {
            return RequestParseResult.Invalid("The request body is empty; expected a JSON object.");
        }

        // JsonDocument needs memory it can keep while it is alive: a pooled copy, returned when done.
        var buffer = ArrayPool<byte>.Shared.Rent(utf8Json.Length);
        try
        {
            utf8Json.CopyTo(buffer);
            using var document = JsonDocument.Parse(buffer.AsMemory(0, utf8Json.Length), DocumentOptions);
            return Read(surface, document.RootElement, counter);
        }
        catch (JsonException exception)
        {
            // JsonDocument refuses a repeated member without saying where; only then is the body read again to find it.
            return DuplicateMember.FindPath(utf8Json) is { } duplicate
                ? RequestParseResult.Invalid($"The request body has the member '{duplicate}' more than once; send each member once.", duplicate)
                : RequestParseResult.Invalid($"The request body is not valid JSON: {exception.Message}");
        }
        catch (InvalidOperationException)
        {
            // The grammar allows "\ud800" alone, but it is no character; nor are bytes that are not UTF-8 (the parser reads
            // strings' bytes only when decoding them): there is no text to meter, nor to forward.
            return RequestParseResult.Invalid(
                "The request body has text that is not valid Unicode: bytes that are not UTF-8, or a \\u escape of a lone surrogate.");
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static RequestParseResult Read(ApiSurface surface, JsonElement root, ReferenceTokenizer? counter)
    {
        if (root.ValueKind != JsonValueKind.Object)
        {
            return RequestParseResult.Invalid($"The request body must be a JSON object, not {Describe(root.ValueKind)}.");
        }

        if (!root.TryGetProperty("model"u8, out var modelElement) || modelElement.ValueKind == JsonValueKind.Null)
        {
            return RequestParseResult.Invalid("You must provide a 'model' parameter.", "model");
        }

        if (modelElement.ValueKind != JsonValueKind.String)
        {
            return RequestParseResult.Invalid($"The 'model' parameter must be a string, not {Describe(modelElement.ValueKind)}.", "model");
        }

        var model = ModelName(modelElement);
        if (string.IsNullOrWhiteSpace(model))
        {
            return RequestParseResult.Invalid("The 'model' parameter must not be empty.", "model");
        }

        if (RequestFieldTypes.Check(surface, root) is var (error, param))
        {
            return RequestParseResult.Invalid(error, param);
        }

        var stream = Json.TryGet(root, "stream"u8, JsonValueKind.True, out _);
        var clientUsage = Json.TryGet(root, "stream_options"u8, JsonValueKind.Object, out var streamOptions)
            && Json.TryGet(streamOptions, "include_usage"u8, JsonValueKind.True, out _);

        var segments = new SegmentList(counter);
        InputText.Collect(surface, root, ref segments);

        return RequestParseResult.Ok(new ParsedRequest
        {
            Surface = surface,
            Model = model,
            Stream = stream,
            MaxOutputTokens = MaxOutputTokens(surface, root),
            ClientRequestedStreamUsage = clientUsage,
            InputSegments = segments.Segments,
            InputTokensCounted = segments.CountedTokens,
            HasNonTextInput = segments.HasNonText,
        });
    }

    /// <summary>
    /// The model's name: written without escapes (as names are), its bytes are the name, found in
    /// <see cref="ModelNames"/> with no string of its own; else unescaped.
    /// </summary>
    private static string ModelName(JsonElement model)
    {
        var quoted = JsonMarshal.GetRawUtf8Value(model);
        var name = quoted[1..^1];
        return name.Contains((byte)'\\') ? model.GetString()! : ModelNames.Get(name);
    }

    private static long? MaxOutputTokens(ApiSurface surface, JsonElement root) => surface switch
    {
        ApiSurface.OpenAIResponses => Json.OptionalLong(root, "max_output_tokens"u8),
        ApiSurface.OpenAIEmbeddings => null,

        // Anthropic has no max_completion_tokens: reading it there would meter a cap the upstream never applies.
        ApiSurface.AnthropicMessages => Json.OptionalLong(root, "max_tokens"u8),
        // max_completion_tokens replaced max_tokens in chat completions; when both are sent it is the one that binds.
        _ => Json.OptionalLong(root, "max_completion_tokens"u8) ?? Json.OptionalLong(root, "max_tokens"u8),
    };

    private static string Describe(JsonValueKind kind) => kind switch
    {
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.Null => "null",
        _ => "an object",
    };
}
