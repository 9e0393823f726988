namespace MeterAgent.Metering.Usage;

/// <summary>
/// Token counts as the upstream reported them, normalised to the OpenTelemetry GenAI convention:
/// <see cref="InputTokens"/> includes cached reads and cache writes; <see cref="OutputTokens"/> includes reasoning.
/// (Anthropic reports input_tokens without cache reads and writes: they are added here.)
/// </summary>
public sealed record NativeUsage(
    long InputTokens,
    long CachedInputTokens,
    long CacheWriteTokens,
    long OutputTokens,
    long ReasoningTokens)
{
    public static NativeUsage Zero { get; } = new(0, 0, 0, 0, 0);
}
