using MeterAgent.Contracts.Units;

namespace MeterAgent.Ledger.Usage;

/// <summary>
/// One request, as metered. Native counts are the upstream's (normalised: input includes cached and cache writes,
/// output includes reasoning); reference counts are o200k_base over the canonical text (docs/canonical-text.md).
/// </summary>
public sealed class UsageRecord
{
    public required string Id { get; init; }

    public required string AccountId { get; init; }

    public required string KeyId { get; init; }

    /// <summary>Surface name, e.g. openai.chat_completions.</summary>
    public required string Surface { get; init; }

    public string? RouteId { get; set; }

    public string? ClusterId { get; set; }

    public string? RequestedModel { get; set; }

    public string? ServedModel { get; set; }

    public bool Stream { get; set; }

    public required DateTimeOffset StartedAt { get; init; }

    public DateTimeOffset? FirstTokenAt { get; set; }

    public DateTimeOffset? EndedAt { get; set; }

    public UsageStatus Status { get; set; }

    /// <summary>HTTP status the client received.</summary>
    public int? HttpStatus { get; set; }

    /// <summary>Why a request failed or was rejected (no secrets, no content).</summary>
    public string? Error { get; set; }

    /// <summary>The upstream reported usage; when false, native counts are null and Quality is "estimated".</summary>
    public bool NativeReported { get; set; }

    public long? NativeInputTokens { get; set; }

    public long? NativeCachedInputTokens { get; set; }

    public long? NativeCacheWriteTokens { get; set; }

    public long? NativeOutputTokens { get; set; }

    public long? NativeReasoningTokens { get; set; }

    public long ReferenceInputTokens { get; set; }

    public long ReferenceOutputTokens { get; set; }

    /// <summary>The counts above, as contract units price them.</summary>
    public MeteredCounts Counts => new(
        ReferenceInputTokens, ReferenceOutputTokens,
        NativeInputTokens, NativeCachedInputTokens, NativeCacheWriteTokens, NativeOutputTokens, NativeReasoningTokens);

    /// <summary>"native" when the upstream reported usage, "estimated" when only reference counts exist.</summary>
    public string Quality { get; set; } = "estimated";

    /// <summary>The input had parts (images, audio, token arrays) that the reference count cannot see.</summary>
    public bool NonTextInput { get; set; }

    /// <summary>Reference tokenizer identity: "o200k_base" plus the SHA-256 of its rank data.</summary>
    public string? ReferenceTokenizer { get; set; }

    /// <summary>The contract the request was redeemed under; null when no credit covered it.</summary>
    public string? ContractId { get; set; }

    public int? ContractVersion { get; set; }

    /// <summary>What the request cost in that contract's units (micro-units), from the counts above.</summary>
    public long? UnitsMicro { get; set; }

    /// <summary>Redeemed from credit lots (micro-units). UnitsMicro = RedeemedMicro + OverageMicro.</summary>
    public long? RedeemedMicro { get; set; }

    /// <summary>Beyond what credits covered: for the provider to bill at spot (micro-units).</summary>
    public long? OverageMicro { get; set; }

    /// <summary>The credit lots the request drew on, in draw order.</summary>
    public IReadOnlyList<string> LotIds { get; set; } = [];

    /// <summary>
    /// Which counts priced <see cref="UnitsMicro"/>: <c>reference</c> (a reference-basis contract), <c>native</c> (the
    /// upstream's counts), <c>native_floored</c> (the upstream's counts, raised to the reference count of what was
    /// delivered where they were lower), <c>reference_fallback</c> (a native-basis contract, but the upstream reported
    /// no usage). Null when nothing was priced.
    /// </summary>
    public string? UnitsBasis { get; set; }

    /// <summary>
    /// What metering noticed, comma-separated and sorted (see <see cref="UsageFlags"/>): e.g. a usage block that was not
    /// final, upstream numbers that were clamped, a response too large to keep whole. Empty when nothing was noticed.
    /// </summary>
    public string Flags { get; set; } = string.Empty;
}
