using System.Diagnostics.CodeAnalysis;
using MeterAgent.Contracts.Units;

namespace MeterAgent.Credits;

/// <summary>
/// A non-negative amount of contract units from an admin call, to micro-units. <see cref="ContractUnits.ToMicro"/>
/// throws on too many decimals or an overflow, which an admin typo must not turn into a 500.
/// </summary>
internal static class UnitAmount
{
    public static bool TryToMicro(decimal units, string member, out long micro, [NotNullWhen(false)] out string? problem)
    {
        micro = 0;
        if (!ContractUnits.IsWholeMicro(units))
        {
            problem = $"'{member}' has more than {ContractUnits.MaxDecimals} decimals: the smallest amount is one micro-unit (0.000001).";
            return false;
        }

        try
        {
            micro = ContractUnits.ToMicro(units);
            problem = null;
            return true;
        }
        catch (ArgumentOutOfRangeException)
        {
            problem = $"'{member}' is too large: at most {long.MaxValue / ContractUnits.MicroPerUnit} contract units.";
            return false;
        }
    }
}
