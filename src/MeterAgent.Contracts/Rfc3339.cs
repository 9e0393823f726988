using System.Globalization;
using System.Text.RegularExpressions;

namespace MeterAgent.Contracts;

/// <summary>
/// Strict RFC 3339 timestamps: date, time and an explicit offset. DateTimeOffset.Parse alone would accept a time without
/// an offset and read it in the machine's zone, so the same file would mean different instants on different hosts.
/// </summary>
internal static partial class Rfc3339
{
    public static bool TryParse(string? text, out DateTimeOffset value)
    {
        value = default;
        return text is not null
            && Shape().IsMatch(text)
            && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.None, out value);
    }

    [GeneratedRegex(@"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d{1,7})?([Zz]|[+-]\d{2}:\d{2})\z", RegexOptions.CultureInvariant)]
    private static partial Regex Shape();
}
