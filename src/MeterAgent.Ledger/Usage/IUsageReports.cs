using MeterAgent.Ledger.Counters;

namespace MeterAgent.Ledger.Usage;

/// <summary>
/// Usage summed per UTC day and model for the consoles' charts: the same totals as the live counters
/// (<see cref="UsageTotals"/>), over closed records started in [from, to). The records stay the source of truth.
/// </summary>
public interface IUsageReports
{
    /// <summary>One row per (day, model) with any closed record, ordered by day then model; <paramref name="accountId"/> null is every account.</summary>
    Task<IReadOnlyList<DailyUsage>> DailyAsync(string? accountId, DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken = default);
}

/// <summary>One day's usage of one model (the served model, else the requested one).</summary>
public sealed record DailyUsage(DateOnly Day, string Model, UsageTotals Totals);
