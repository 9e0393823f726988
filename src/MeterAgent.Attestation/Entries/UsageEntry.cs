namespace MeterAgent.Attestation.Entries;

/// <summary>
/// What the log says of one closed usage record: who, what, when, how it ended and what it counted and cost. Never
/// prompt or output text, never a key. Encoded with <see cref="UsageEntryEncoding"/> as one leaf of the log.
/// </summary>
/// <remarks>
/// A value, not an object: the store builds one from every record it closes only to encode it, so it lives on the
/// writer's stack (pass it by <c>in</c>). Equality is by value, as before.
/// </remarks>
public readonly record struct UsageEntry
{
    /// <summary>An entry; every required field must be set (a struct with an initialised field declares its constructor).</summary>
    public UsageEntry()
    {
    }

    public required string UsageId { get; init; }

    public required string AccountId { get; init; }

    /// <summary>Surface name, e.g. openai.chat_completions.</summary>
    public required string Surface { get; init; }

    public string? RequestedModel { get; init; }

    public string? ServedModel { get; init; }

    /// <summary>Unix microseconds.</summary>
    public required long StartedAtMicros { get; init; }

    /// <summary>Unix microseconds.</summary>
    public required long EndedAtMicros { get; init; }

    /// <summary>The record's status as stored: completed, client_aborted, upstream_failed, ...</summary>
    public required string Status { get; init; }

    public long? NativeInputTokens { get; init; }

    public long? NativeCachedInputTokens { get; init; }

    public long? NativeCacheWriteTokens { get; init; }

    public long? NativeOutputTokens { get; init; }

    public long? NativeReasoningTokens { get; init; }

    public long ReferenceInputTokens { get; init; }

    public long ReferenceOutputTokens { get; init; }

    /// <summary>The reference tokenizer's identity (name and the SHA-256 of its rank data).</summary>
    public string? ReferenceTokenizer { get; init; }

    public string? ContractId { get; init; }

    public int? ContractVersion { get; init; }

    public long? UnitsMicro { get; init; }

    public long RedeemedMicro { get; init; }

    public long OverageMicro { get; init; }

    /// <summary>Which counts priced the units (reference, native, native_floored, reference_fallback).</summary>
    public string? UnitsBasis { get; init; }

    /// <summary>What metering noticed, comma-separated and sorted; empty when nothing.</summary>
    public string Flags { get; init; } = string.Empty;

    public bool NonTextInput { get; init; }
}
