using MeterAgent.Contracts.Specs;

namespace MeterAgent.Contracts.Units;

/// <summary>
/// Converts token counts to contract units. Amounts are whole micro-units (1 unit = 1,000,000) so ledgers add and
/// compare integers (and later run as Redis Lua), never floating point.
/// </summary>
/// <remarks>
/// Sums are taken in decimal and rounded up once at the end: rounding each class separately would charge up to a
/// micro-unit per class more, and rounding down would let many small requests redeem less than they used. With spec
/// weights of at most 6 decimals the sum is already a whole number of micro-units and the rounding never applies.
/// </remarks>
public static class ContractUnits
{
    public const long MicroPerUnit = 1_000_000;

    // The largest unit amount whose micro-units fit a long: long.MaxValue / MicroPerUnit.
    private const decimal MaxUnits = long.MaxValue / (decimal)MicroPerUnit;

    /// <summary>Units delivered for a metered request under this contract, rounded up to a whole micro-unit.</summary>
    public static long Actual(ContractSpec spec, in MeteredCounts counts) => Price(spec, counts).Micro;

    /// <summary>
    /// Units delivered for a metered request under this contract, rounded up to a whole micro-unit, and which counts
    /// priced them.
    /// </summary>
    /// <remarks>
    /// A native-basis contract prices the upstream's own counts when it reported input and output, and falls back to the
    /// reference counts otherwise (a stream cut before its usage event, an upstream that reports none), so a missing
    /// usage block never prices a request at zero. Where the upstream's input or visible output is below the reference
    /// count of the same text, the reference count is priced instead: the reference count is what was demonstrably
    /// delivered, and a usage block that is a placeholder (Anthropic's message_start before its message_delta) or simply
    /// wrong must never make a request cheaper than that.
    /// </remarks>
    public static PricedUnits Price(ContractSpec spec, in MeteredCounts counts)
    {
        ArgumentNullException.ThrowIfNull(spec);
        RequireCounts(counts);

        var w = spec.Weights;
        if (spec.Basis == UnitBasis.Native && counts is { NativeInput: { } input, NativeOutput: { } output })
        {
            var cached = counts.NativeCachedInput ?? 0;
            var cacheWrite = counts.NativeCacheWrite ?? 0;
            var reasoning = counts.NativeReasoning ?? 0;

            // Native input includes cache reads and writes, output includes reasoning (OpenTelemetry GenAI): take them
            // out so no token is priced twice. The floor guards an upstream whose parts add up to more than its total.
            var uncachedInput = Math.Max(0, input - cached - cacheWrite);
            var visibleOutput = Math.Max(0, output - reasoning);

            // Input below the reference count of the prompt text: the missing tokens are priced as plain input.
            uncachedInput += Math.Max(0, counts.ReferenceInput - input);
            visibleOutput = Math.Max(visibleOutput, counts.ReferenceOutput);

            var native = (w.Input * uncachedInput)
                + (w.CachedInput * cached)
                + (w.CacheWrite * cacheWrite)
                + (w.Output * visibleOutput)
                + (w.Reasoning * reasoning);
            return new PricedUnits(CeilingMicro(native), counts.NativeBelowReference ? PricedUnits.NativeFloored : PricedUnits.Native);
        }

        // Hidden reasoning cannot be re-tokenized: it enters through the native count even on the reference basis.
        var reference = (w.Input * counts.ReferenceInput)
            + (w.Output * counts.ReferenceOutput)
            + (w.Reasoning * (counts.NativeReasoning ?? 0));
        return new PricedUnits(
            CeilingMicro(reference),
            spec.Basis == UnitBasis.Native ? PricedUnits.ReferenceFallback : PricedUnits.Reference);
    }

    /// <summary>What to reserve before the request goes upstream: reference prompt tokens plus the max output, at the dearest output class.</summary>
    /// <remarks>
    /// Both bases estimate from the reference input, the only input count known before the upstream answers. On the
    /// reference basis this bounds <see cref="Actual"/> whenever reference output plus native reasoning is at most
    /// <paramref name="maxOutputTokens"/>. On the native basis a request whose native input exceeds its reference input,
    /// or whose cache writes weigh more than plain input, can cost more than its reservation: that excess is overage by
    /// design, not an error.
    /// </remarks>
    public static long Estimate(ContractSpec spec, long referenceInputTokens, long maxOutputTokens)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentOutOfRangeException.ThrowIfNegative(referenceInputTokens);
        ArgumentOutOfRangeException.ThrowIfNegative(maxOutputTokens);

        var w = spec.Weights;
        var units = (w.Input * referenceInputTokens) + (Math.Max(w.Output, w.Reasoning) * maxOutputTokens);

        // A client may ask for any max output; an estimate past what a ledger can hold is simply more than any credit.
        return CeilingMicro(units);
    }

    /// <summary>Decimals a unit amount may have: one micro-unit is the smallest amount.</summary>
    public const int MaxDecimals = ContractSpecValidator.MaxDecimals;

    /// <summary>Whether <see cref="ToMicro"/> can convert the amount exactly (at most <see cref="MaxDecimals"/> decimals).</summary>
    public static bool IsWholeMicro(decimal units) => ContractSpecValidator.HasAtMostMaxDecimals(units);

    /// <summary>Exact conversion of a unit amount with at most 6 decimals; more decimals or a negative amount throw rather than round.</summary>
    public static long ToMicro(decimal units)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(units);
        if (!ContractSpecValidator.HasAtMostMaxDecimals(units))
        {
            throw new ArgumentException($"{units} has more than {ContractSpecValidator.MaxDecimals} decimals: it is not a whole number of micro-units.", nameof(units));
        }

        try
        {
            return checked((long)(units * MicroPerUnit));
        }
        catch (OverflowException)
        {
            throw new ArgumentOutOfRangeException(nameof(units), units, "is too large for micro-units in a 64-bit integer.");
        }
    }

    public static decimal FromMicro(long micro) => micro / (decimal)MicroPerUnit;

    /// <remarks>Saturates: a count no ledger can hold is more than any credit, never an overflow.</remarks>
    private static long CeilingMicro(decimal units) => units >= MaxUnits ? long.MaxValue : (long)decimal.Ceiling(units * MicroPerUnit);

    private static void RequireCounts(in MeteredCounts counts)
    {
        // A negative count is a metering bug; pricing it would credit the account.
        if (counts.ReferenceInput < 0 || counts.ReferenceOutput < 0
            || counts.NativeInput < 0 || counts.NativeCachedInput < 0 || counts.NativeCacheWrite < 0
            || counts.NativeOutput < 0 || counts.NativeReasoning < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(counts), counts, "Token counts cannot be negative.");
        }
    }
}
