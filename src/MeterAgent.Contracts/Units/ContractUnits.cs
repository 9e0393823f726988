using MeterAgent.Contracts.Specs;

namespace MeterAgent.Contracts.Units;

/// <summary>
/// Converts token counts to contract units. Amounts are whole micro-units (1 unit = 1,000,000) so ledgers add and
/// compare integers (and later run as Redis Lua), never floating point.
/// </summary>
public static class ContractUnits
{
    public const long MicroPerUnit = 1_000_000;

    /// <summary>Units delivered for a metered request under this contract, rounded up to a whole micro-unit.</summary>
    public static long Actual(ContractSpec spec, in MeteredCounts counts) => throw new NotImplementedException();

    /// <summary>What to reserve before the request goes upstream: reference prompt tokens plus the max output, at the dearest output class.</summary>
    public static long Estimate(ContractSpec spec, long referenceInputTokens, long maxOutputTokens) => throw new NotImplementedException();

    public static long ToMicro(decimal units) => throw new NotImplementedException();

    public static decimal FromMicro(long micro) => micro / (decimal)MicroPerUnit;
}
