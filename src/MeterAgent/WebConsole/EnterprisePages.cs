using MeterAgent.Credits;
using MeterAgent.Ledger.Counters;
using MeterAgent.Ledger.Credits;
using MeterAgent.Ledger.Usage;
using MeterAgent.Log;
using MeterAgent.WebConsole.Components;

namespace MeterAgent.WebConsole;

/// <summary>
/// An enterprise's console (client port, its client key): its balance, usage and records, and the proofs its browser
/// verifies. Every read is of the session's account, whatever id a URL or a form names.
/// </summary>
internal static class EnterprisePages
{
    private const ConsoleAudience Enterprise = ConsoleAudience.Enterprise;

    /// <summary>How many days of usage by model and day the home page shows.</summary>
    public const int UsageDays = 30;

    public static async Task<IResult> HomeAsync(HttpContext http, ICreditLedger ledger, IUsageCounters counters, IUsageReports reports, TimeProvider clock)
    {
        var accountId = SessionAccount(http);
        var ct = http.RequestAborted;
        var now = clock.GetUtcNow();

        // The same figures as GET /v1/meteragent/balance.
        var balance = await CreditsEndpoints.BalanceOfAsync(accountId, ledger, counters, ct);
        var today = DateOnly.FromDateTime(now.UtcDateTime);
        var first = today.AddDays(-(UsageDays - 1));
        var daily = await reports.DailyAsync(accountId, new DateTimeOffset(first.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero), now.AddDays(1), ct);
        ChartData? burnDown = null;
        if (balance.Lots.Count > 0)
        {
            var earliest = balance.Lots.Min(lot => lot.WindowStart < lot.DeliveredAt ? lot.WindowStart : lot.DeliveredAt);
            var floor = now.AddDays(-ConsoleCharts.MaxDays);
            var burnDaily = await reports.DailyAsync(accountId, earliest > floor ? earliest : floor, now.AddDays(1), ct);
            burnDown = ConsoleCharts.BurnDown(balance.Lots, burnDaily, now);
        }

        var tokens = ConsoleCharts.DailyTokens(daily, first, today);
        return ConsoleEndpoints.Page<EnterpriseHome>(http, new ConsoleFrame(Enterprise, "Balance", Charts: burnDown is not null || tokens is not null), new()
        {
            ["Balance"] = balance,
            ["Daily"] = daily,
            ["BurnDown"] = burnDown,
            ["Tokens"] = tokens,
            ["Now"] = now,
        });
    }

    public static async Task<IResult> RecordsAsync(HttpContext http, IUsageStore usage, IUsageLog log, CheckpointPublisher publisher, string? model, string? status, string? before)
    {
        var accountId = SessionAccount(http);
        var ct = http.RequestAborted;
        var filters = new UsageFilters(null, Blank(model), Blank(status), null, null);
        if (filters.Problem() is { } problem)
        {
            return ConsoleEndpoints.Page<RecordsPage>(http, new ConsoleFrame(Enterprise, "Records", Verify: true), new()
            {
                ["Filters"] = filters,
                ["Records"] = Array.Empty<UsageRecord>(),
                ["InLog"] = new HashSet<string>(StringComparer.Ordinal),
                ["Problem"] = problem,
            }, StatusCodes.Status400BadRequest);
        }

        // The session's account, never one the query string names.
        var records = await usage.QueryAsync(filters.Query(accountId, Blank(before), ConsoleEndpoints.PageSize), ct);
        var inLog = new HashSet<string>(StringComparer.Ordinal);
        if (publisher.IsEnabled)
        {
            foreach (var record in records)
            {
                if (record.Status != UsageStatus.Open && await log.FindAsync(record.Id, ct) is { } entry && entry.AccountId == accountId)
                {
                    inLog.Add(record.Id);
                }
            }
        }

        return ConsoleEndpoints.Page<RecordsPage>(http, new ConsoleFrame(Enterprise, "Records", Verify: true), new()
        {
            ["Filters"] = filters,
            ["Records"] = records,
            ["InLog"] = inLog,
            ["NextBefore"] = records.Count == ConsoleEndpoints.PageSize ? records[^1].Id : null,
        });
    }

    /// <summary>The account API's proof (<c>GET /v1/meteragent/log/proof/{usageId}</c>) for the session's account: one method for both.</summary>
    public static Task<IResult> ProofAsync(
        string usageId, HttpContext http, IUsageLog log, UsageLogTree tree, CheckpointPublisher publisher, AccountStatements statements) =>
        AccountProofs.ProveForAsync(usageId, SessionAccount(http), log, tree, publisher, statements, http.RequestAborted);

    private static string SessionAccount(HttpContext http) =>
        ConsoleSessions.AccountId(http.User) ?? throw new InvalidOperationException("An enterprise page ran without a session.");

    private static string? Blank(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();
}
