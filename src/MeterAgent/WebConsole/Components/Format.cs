using System.Globalization;
using MeterAgent.Contracts.Units;

namespace MeterAgent.WebConsole.Components;

/// <summary>How the pages write times and amounts: UTC, invariant culture, the same on every page.</summary>
internal static class Format
{
    public static string Time(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss 'UTC'", CultureInfo.InvariantCulture);

    public static string Time(DateTimeOffset? time) => time is { } value ? Time(value) : "—";

    public static string Units(decimal units) => units.ToString("#,0.######", CultureInfo.InvariantCulture);

    public static string Micro(long micro) => Units(ContractUnits.FromMicro(micro));

    public static string Micro(long? micro) => micro is { } value ? Micro(value) : "—";

    public static string Count(long? count) => count is { } value ? value.ToString("#,0", CultureInfo.InvariantCulture) : "—";

    public static string Limit(long? perMinute) => perMinute is { } value ? value.ToString("#,0", CultureInfo.InvariantCulture) : "unlimited";
}
