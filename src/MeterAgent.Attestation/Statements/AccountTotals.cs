namespace MeterAgent.Attestation.Statements;

/// <summary>One account's delivered volume in one statement: sums over its entries (token counts, then micro-units).</summary>
public sealed record AccountTotals
{
    public required string AccountId { get; init; }

    public long Records { get; init; }

    public long NativeInputTokens { get; init; }

    public long NativeCachedInputTokens { get; init; }

    public long NativeCacheWriteTokens { get; init; }

    public long NativeOutputTokens { get; init; }

    public long NativeReasoningTokens { get; init; }

    public long ReferenceInputTokens { get; init; }

    public long ReferenceOutputTokens { get; init; }

    public long UnitsMicro { get; init; }

    public long RedeemedMicro { get; init; }

    public long OverageMicro { get; init; }

    /// <summary>Records whose upstream reported no usage (only reference counts): quality "estimated".</summary>
    public long EstimatedRecords { get; init; }

    /// <summary>Records with images, audio or token arrays the reference count cannot see.</summary>
    public long NonTextRecords { get; init; }
}
