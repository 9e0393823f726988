namespace MeterAgent.Metering.Surfaces;

public static class ApiSurfaces
{
    /// <summary>Recognises the surface from the request path (exact, case-insensitive, trailing slash tolerated).</summary>
    public static ApiSurface FromPath(ReadOnlySpan<char> path)
    {
        if (path.Length > 1 && path[^1] == '/')
        {
            path = path[..^1];
        }

        if (path.Equals("/v1/chat/completions", StringComparison.OrdinalIgnoreCase)) return ApiSurface.OpenAIChatCompletions;
        if (path.Equals("/v1/completions", StringComparison.OrdinalIgnoreCase)) return ApiSurface.OpenAICompletions;
        if (path.Equals("/v1/responses", StringComparison.OrdinalIgnoreCase)) return ApiSurface.OpenAIResponses;
        if (path.Equals("/v1/embeddings", StringComparison.OrdinalIgnoreCase)) return ApiSurface.OpenAIEmbeddings;
        if (path.Equals("/v1/messages", StringComparison.OrdinalIgnoreCase)) return ApiSurface.AnthropicMessages;
        return ApiSurface.Unknown;
    }

    public static ApiFamily Family(this ApiSurface surface) =>
        surface == ApiSurface.AnthropicMessages ? ApiFamily.Anthropic : ApiFamily.OpenAI;

    /// <summary>The stable name used in records, metrics and route metadata.</summary>
    public static string Name(this ApiSurface surface) => surface switch
    {
        ApiSurface.OpenAIChatCompletions => "openai.chat_completions",
        ApiSurface.OpenAICompletions => "openai.completions",
        ApiSurface.OpenAIResponses => "openai.responses",
        ApiSurface.OpenAIEmbeddings => "openai.embeddings",
        ApiSurface.AnthropicMessages => "anthropic.messages",
        _ => "unknown",
    };

    public static bool TryParseName(string? name, out ApiSurface surface)
    {
        foreach (var candidate in Enum.GetValues<ApiSurface>())
        {
            if (candidate != ApiSurface.Unknown && string.Equals(candidate.Name(), name, StringComparison.OrdinalIgnoreCase))
            {
                surface = candidate;
                return true;
            }
        }

        surface = ApiSurface.Unknown;
        return false;
    }
}
