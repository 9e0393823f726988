namespace MeterAgent.Metering.Usage;

/// <summary>
/// Token counts as the upstream reported them, normalised to the OpenTelemetry GenAI convention:
/// <see cref="InputTokens"/> includes cached reads and cache writes; <see cref="OutputTokens"/> includes reasoning.
/// (Anthropic reports input_tokens without cache reads and writes: they are added here.) A value: a response reports
/// usage on every streamed chunk that carries it, and a response's last is kept without an object of its own.
/// </summary>
public readonly record struct NativeUsage(
    long InputTokens,
    long CachedInputTokens,
    long CacheWriteTokens,
    long OutputTokens,
    long ReasoningTokens)
{
    public static NativeUsage Zero { get; } = new(0, 0, 0, 0, 0);
}
