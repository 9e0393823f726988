using System.Text.Json;
using MeterAgent.Ledger.Usage;

namespace MeterAgent.Common;

/// <summary>
/// A record status as the management APIs and the consoles spell it (snake_case, as the JSON of a record does), and back
/// from untrusted text.
/// </summary>
public static class UsageStatusText
{
    /// <summary>Every status a record can have, by name, in the enum's order.</summary>
    public static readonly IReadOnlyList<(string Name, UsageStatus Status)> Statuses =
        [.. Enum.GetValues<UsageStatus>().Select(status => (JsonNamingPolicy.SnakeCaseLower.ConvertName(status.ToString()), status))];

    /// <summary>The names, comma-separated, for an error message.</summary>
    public static string Names => string.Join(", ", Statuses.Select(entry => entry.Name));

    public static string Name(UsageStatus status) => Statuses.First(entry => entry.Status == status).Name;

    /// <summary>A status by its name (any case); null when there is none of that name.</summary>
    public static UsageStatus? Parse(string text)
    {
        foreach (var (name, status) in Statuses)
        {
            if (string.Equals(name, text, StringComparison.OrdinalIgnoreCase))
            {
                return status;
            }
        }

        return null;
    }
}
