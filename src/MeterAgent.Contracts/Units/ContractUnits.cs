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

    /// <summary>Units delivered for a metered request under this contract, rounded up to a whole micro-unit.</summary>
    /// <remarks>
    /// A native-basis contract prices the upstream's own counts when it reported input and output, and falls back to the
    /// reference counts otherwise (a stream cut before its usage event, an upstream that reports none), so a missing
    /// usage block never prices a request at zero.
    /// </remarks>
    public static long Actual(ContractSpec spec, in MeteredCounts counts)
    {
        ArgumentNullException.ThrowIfNull(spec);
        RequireCounts(counts);

        var w = spec.Weights;
        decimal units;
        if (spec.Basis == UnitBasis.Native && counts is { NativeInput: { } input, NativeOutput: { } output })
        {
            var cached = counts.NativeCachedInput ?? 0;
            var cacheWrite = counts.NativeCacheWrite ?? 0;
            var reasoning = counts.NativeReasoning ?? 0;

            // Native input includes cache reads and writes, output includes reasoning (OpenTelemetry GenAI): take them
            // out so no token is priced twice. The floor guards an upstream whose parts add up to more than its total.
            var uncachedInput = Math.Max(0, input - cached - cacheWrite);
            var visibleOutput = Math.Max(0, output - reasoning);

            units = (w.Input * uncachedInput)
                + (w.CachedInput * cached)
                + (w.CacheWrite * cacheWrite)
                + (w.Output * visibleOutput)
                + (w.Reasoning * reasoning);
        }
        else
        {
            // Hidden reasoning cannot be re-tokenized: it enters through the native count even on the reference basis.
            units = (w.Input * counts.ReferenceInput)
                + (w.Output * counts.ReferenceOutput)
                + (w.Reasoning * (counts.NativeReasoning ?? 0));
        }

        return CeilingMicro(units);
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
        return CeilingMicro(units);
    }

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

    private static long CeilingMicro(decimal units) => checked((long)decimal.Ceiling(units * MicroPerUnit));

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
