namespace MeterAgent.Emulator.Pipeline;

/// <summary>
/// The token accounting of one response, in native tokens. Completion includes reasoning (hidden) tokens,
/// prompt includes cached tokens, as OpenAI reports them; Anthropic's split is derived from these.
/// </summary>
internal readonly record struct UsageNumbers(int PromptTokens, int CachedTokens, int CacheCreationTokens, int VisibleTokens, int ReasoningTokens)
{
    /// <summary>Prompts this long get a deterministic cache hit, so cached-token metering can be exercised.</summary>
    public const int CacheMinimumTokens = 128;

    public const int CacheBlockTokens = 64;

    public const int ReasoningTokensPerResponse = 32;

    public const int CacheWriteTokens = 16;

    public int CompletionTokens => VisibleTokens + ReasoningTokens;

    public int TotalTokens => PromptTokens + CompletionTokens;

    /// <summary>Anthropic's input_tokens: the part of the prompt that was neither read from nor written to cache.</summary>
    public int AnthropicInputTokens => PromptTokens - CachedTokens - CacheCreationTokens;

    public static UsageNumbers Compute(int promptTokens, int outputTokens, bool reasoningModel, bool cacheControl)
    {
        var cached = promptTokens >= CacheMinimumTokens ? promptTokens / CacheBlockTokens * CacheBlockTokens : 0;
        var cacheWrite = cacheControl ? Math.Min(CacheWriteTokens, promptTokens - cached) : 0;

        // Reasoning is part of the output budget, but at least one visible token is always left.
        var reasoning = reasoningModel && outputTokens > 1 ? Math.Min(ReasoningTokensPerResponse, outputTokens - 1) : 0;
        return new UsageNumbers(promptTokens, cached, cacheWrite, outputTokens - reasoning, reasoning);
    }
}
