using System.Text.Json;
using MeterAgent.Metering.Canonical;

namespace MeterAgent.Metering.Usage;

/// <summary>Reads each surface's usage object into the OpenTelemetry GenAI convention (input includes cached, output includes reasoning).</summary>
internal static class UsageNormalizer
{
    /// <summary>Chat completions, completions, embeddings: prompt_tokens already include cached, completion_tokens reasoning.</summary>
    public static NativeUsage FromOpenAIChat(JsonElement usage)
    {
        var cached = Json.TryGet(usage, "prompt_tokens_details"u8, JsonValueKind.Object, out var promptDetails)
            ? Json.Long(promptDetails, "cached_tokens"u8)
            : 0;
        var reasoning = Json.TryGet(usage, "completion_tokens_details"u8, JsonValueKind.Object, out var completionDetails)
            ? Json.Long(completionDetails, "reasoning_tokens"u8)
            : 0;
        return new NativeUsage(
            InputTokens: Json.Long(usage, "prompt_tokens"u8),
            CachedInputTokens: cached,
            CacheWriteTokens: 0,
            OutputTokens: Json.Long(usage, "completion_tokens"u8),
            ReasoningTokens: reasoning);
    }

    /// <summary>Responses API: input_tokens already include cached, output_tokens reasoning.</summary>
    public static NativeUsage FromOpenAIResponses(JsonElement usage)
    {
        var cached = Json.TryGet(usage, "input_tokens_details"u8, JsonValueKind.Object, out var inputDetails)
            ? Json.Long(inputDetails, "cached_tokens"u8)
            : 0;
        var reasoning = Json.TryGet(usage, "output_tokens_details"u8, JsonValueKind.Object, out var outputDetails)
            ? Json.Long(outputDetails, "reasoning_tokens"u8)
            : 0;
        return new NativeUsage(
            InputTokens: Json.Long(usage, "input_tokens"u8),
            CachedInputTokens: cached,
            CacheWriteTokens: 0,
            OutputTokens: Json.Long(usage, "output_tokens"u8),
            ReasoningTokens: reasoning);
    }

    /// <summary>Anthropic reports input_tokens without cache reads and writes; GenAI input includes both.</summary>
    public static NativeUsage FromAnthropic(long input, long cacheCreation, long cacheRead, long output) =>
        new(input + cacheCreation + cacheRead, cacheRead, cacheCreation, output, 0);
}
