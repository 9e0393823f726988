using System.Globalization;
using MeterAgent.Common;
using MeterAgent.Ledger.Usage;

namespace MeterAgent.WebConsole;

/// <summary>The usage lists' filters as the query string gave them (untrusted text), and the store query they make.</summary>
public sealed record UsageFilters(string? Account, string? Model, string? Status, string? From, string? To)
{
    /// <summary>What is wrong with the filters, in words for the page; null when they make a query.</summary>
    public string? Problem() =>
        Status is not null && UsageStatusText.Parse(Status) is null
            ? $"Unknown status; one of: {UsageStatusText.Names}."
            : From is not null && ParseTime(From) is null
                ? "'From' is not a date and time (e.g. 2026-01-31T09:00, UTC)."
                : To is not null && ParseTime(To) is null
                    ? "'To' is not a date and time (e.g. 2026-01-31T18:00, UTC)."
                    : null;

    /// <summary>The store query; <paramref name="accountId"/> is the session's account on the enterprise console, whatever was asked.</summary>
    public UsageQuery Query(string? accountId, string? before, int limit) => new(
        accountId, Model, From is null ? null : ParseTime(From), To is null ? null : ParseTime(To), before, limit,
        Status is null ? null : UsageStatusText.Parse(Status));

    /// <summary>An ISO 8601 time; without an offset (what a datetime-local input sends) it is UTC.</summary>
    private static DateTimeOffset? ParseTime(string text) =>
        DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AllowWhiteSpaces, out var parsed)
            ? parsed
            : null;
}
