using System.Text.Json;
using MeterAgent.Metering.Surfaces;

namespace MeterAgent.Metering.Requests;

/// <summary>
/// Rejects a member the proxy meters by when it has a type the proxy would read as absent while an upstream might
/// read it as something (a lenient validator coerces "true" to true or 1.0 to 1): the proxy would then meter one
/// request and the upstream serve another. Null is taken as absent everywhere, as the upstreams do for optional
/// members. Members the proxy does not read are left to the upstream.
/// </summary>
internal static class RequestFieldTypes
{
    /// <summary>The largest max-token value accepted: int32, what the upstreams' own schemas take.</summary>
    public const long MaxTokensCap = int.MaxValue;

    /// <summary>Null when every metered member has a type the proxy reads; else the error and the parameter's path.</summary>
    public static (string Error, string Param)? Check(ApiSurface surface, JsonElement root)
    {
        if (Boolean(root, "stream"u8, "stream") is { } stream)
        {
            return stream;
        }

        if (root.TryGetProperty("stream_options"u8, out var options))
        {
            if (options.ValueKind is not (JsonValueKind.Object or JsonValueKind.Null))
            {
                return (Must("stream_options", "an object", options), "stream_options");
            }

            if (options.ValueKind == JsonValueKind.Object && Boolean(options, "include_usage"u8, "stream_options.include_usage") is { } usage)
            {
                return usage;
            }
        }

        return surface switch
        {
            ApiSurface.OpenAIChatCompletions => MaxTokens(root, "max_completion_tokens"u8, "max_completion_tokens")
                ?? MaxTokens(root, "max_tokens"u8, "max_tokens") ?? Messages(root, chat: true) ?? Array(root, "tools"u8, "tools"),
            // RequestParser reads max_completion_tokens first on completions too, so it is checked there as well.
            ApiSurface.OpenAICompletions => MaxTokens(root, "max_completion_tokens"u8, "max_completion_tokens")
                ?? MaxTokens(root, "max_tokens"u8, "max_tokens")
                ?? StringOrArray(root, "prompt"u8, "prompt") ?? Kind(root, "suffix"u8, "suffix", JsonValueKind.String, "a string"),
            ApiSurface.OpenAIResponses => MaxTokens(root, "max_output_tokens"u8, "max_output_tokens")
                ?? Kind(root, "instructions"u8, "instructions", JsonValueKind.String, "a string") ?? ResponsesInput(root)
                ?? Array(root, "tools"u8, "tools"),
            ApiSurface.OpenAIEmbeddings => StringOrArray(root, "input"u8, "input"),
            ApiSurface.AnthropicMessages => MaxTokens(root, "max_tokens"u8, "max_tokens")
                ?? StringOrArray(root, "system"u8, "system") ?? Messages(root, chat: false) ?? Array(root, "tools"u8, "tools"),
            _ => null,
        };
    }

    private static (string, string)? Boolean(JsonElement owner, ReadOnlySpan<byte> name, string param) =>
        owner.TryGetProperty(name, out var value) && value.ValueKind is not (JsonValueKind.True or JsonValueKind.False or JsonValueKind.Null)
            ? (Must(param, "a boolean", value), param)
            : null;

    /// <summary>An integer literal in [0, <see cref="MaxTokensCap"/>]: not 1.0, not 1e3, not negative, not huge.</summary>
    private static (string, string)? MaxTokens(JsonElement root, ReadOnlySpan<byte> name, string param)
    {
        if (!root.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        return value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out var number) && number is >= 0 and <= MaxTokensCap
            ? null
            : ($"The '{param}' parameter must be a non-negative integer of at most {MaxTokensCap}, not {Written(value)}.", param);
    }

    private static (string, string)? Kind(JsonElement owner, ReadOnlySpan<byte> name, string param, JsonValueKind kind, string expected) =>
        owner.TryGetProperty(name, out var value) && value.ValueKind != kind && value.ValueKind != JsonValueKind.Null
            ? (Must(param, expected, value), param)
            : null;

    private static (string, string)? Array(JsonElement owner, ReadOnlySpan<byte> name, string param) =>
        Kind(owner, name, param, JsonValueKind.Array, "an array");

    private static (string, string)? StringOrArray(JsonElement owner, ReadOnlySpan<byte> name, string param) =>
        owner.TryGetProperty(name, out var value) && value.ValueKind is not (JsonValueKind.String or JsonValueKind.Array or JsonValueKind.Null)
            ? (Must(param, "a string or an array", value), param)
            : null;

    /// <summary>messages: an array of objects whose content is text or parts; a text part's text is a string.</summary>
    private static (string, string)? Messages(JsonElement root, bool chat)
    {
        if (Array(root, "messages"u8, "messages") is { } wrong)
        {
            return wrong;
        }

        if (!root.TryGetProperty("messages"u8, out var messages) || messages.ValueKind != JsonValueKind.Array)
        {
            return null;
        }

        var index = 0;
        foreach (var message in messages.EnumerateArray())
        {
            if (message.ValueKind != JsonValueKind.Object)
            {
                return (Must($"messages[{index}]", "an object", message), $"messages[{index}]");
            }

            if (message.TryGetProperty("content"u8, out var content))
            {
                if (content.ValueKind is not (JsonValueKind.String or JsonValueKind.Array or JsonValueKind.Null))
                {
                    var param = $"messages[{index}].content";
                    return (Must(param, "a string or an array", content), param);
                }

                if (content.ValueKind == JsonValueKind.Array && TextParts(content) is { } part)
                {
                    var param = $"messages[{index}].content[{part}].text";
                    return (Must(param, "a string", content[part].GetProperty("text"u8)), param);
                }
            }

            if (chat && message.TryGetProperty("tool_calls"u8, out var calls) && calls.ValueKind is not (JsonValueKind.Array or JsonValueKind.Null))
            {
                var param = $"messages[{index}].tool_calls";
                return (Must(param, "an array", calls), param);
            }

            index++;
        }

        return null;
    }

    /// <summary>The index of a part typed text whose text is present but not a string.</summary>
    private static int? TextParts(JsonElement parts)
    {
        var index = 0;
        foreach (var part in parts.EnumerateArray())
        {
            if (part.ValueKind == JsonValueKind.Object && part.TryGetProperty("type"u8, out var type) && type.ValueKind == JsonValueKind.String
                && type.ValueEquals("text"u8) && part.TryGetProperty("text"u8, out var text) && text.ValueKind != JsonValueKind.String)
            {
                return index;
            }

            index++;
        }

        return null;
    }

    /// <summary>input: text, or an array of item objects.</summary>
    private static (string, string)? ResponsesInput(JsonElement root)
    {
        if (StringOrArray(root, "input"u8, "input") is { } wrong)
        {
            return wrong;
        }

        if (!root.TryGetProperty("input"u8, out var input) || input.ValueKind != JsonValueKind.Array)
        {
            return null;
        }

        var index = 0;
        foreach (var item in input.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Object)
            {
                return (Must($"input[{index}]", "an object", item), $"input[{index}]");
            }

            index++;
        }

        return null;
    }

    private static string Must(string param, string expected, JsonElement actual) =>
        $"The '{param}' parameter must be {expected}, not {Written(actual)}.";

    private static string Written(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.Array => "an array",
        JsonValueKind.Object => "an object",
        JsonValueKind.String => "a string",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.Null => "null",
        // A number is quoted as written, so the client sees which one: -1, 1.5, 1e3, 99999999999.
        _ => value.GetRawText().Length <= 32 ? value.GetRawText() : "a number out of range",
    };
}
