using System.Globalization;
using System.Text;
using MeterAgent.Admin;
using MeterAgent.Attestation.Notes;
using MeterAgent.Credits;
using MeterAgent.Ledger.Accounts;
using MeterAgent.Ledger.Credits;
using MeterAgent.Ledger.RateLimits;
using MeterAgent.Ledger.Statements;
using MeterAgent.Ledger.Usage;
using MeterAgent.Log;
using MeterAgent.WebConsole.Components;
using Microsoft.Extensions.Options;

namespace MeterAgent.WebConsole;

/// <summary>The operator console's pages and forms (management port, admin token): the admin API's operations, in HTML.</summary>
internal static class OperatorPages
{
    private const ConsoleAudience Operator = ConsoleAudience.Operator;

    /// <summary>How far back an account page's burn-down reads daily usage at most.</summary>
    private const int PendingShown = 50;

    public static async Task<IResult> HomeAsync(HttpContext http, IAccountStore accounts, string? after)
    {
        // The store lists accounts whole (they are few: one per customer); the page shows 50 at a time, by id.
        var all = (await accounts.ListAccountsAsync(http.RequestAborted)).OrderBy(account => account.Id, StringComparer.Ordinal);
        var page = (after is null ? all : all.Where(account => string.CompareOrdinal(account.Id, after) > 0)).Take(ConsoleEndpoints.PageSize + 1).ToList();
        var next = page.Count > ConsoleEndpoints.PageSize ? page[ConsoleEndpoints.PageSize - 1].Id : null;
        return ConsoleEndpoints.Page<OperatorHome>(http, new ConsoleFrame(Operator, "Accounts"), new()
        {
            ["Accounts"] = page.Take(ConsoleEndpoints.PageSize).ToList(),
            ["NextAfter"] = next,
        });
    }

    public static async Task<IResult> CreateAccountAsync(HttpContext http, IAccountStore accounts)
    {
        var form = await http.Request.ReadFormAsync(http.RequestAborted);
        var name = form["name"].ToString().Trim();
        if (name.Length is 0 or > 200)
        {
            return ConsoleEndpoints.Message(http, Operator, StatusCodes.Status400BadRequest, "Account not created", "An account needs a name of 1-200 characters.");
        }

        var account = await accounts.CreateAccountAsync(name, http.RequestAborted);
        return ConsoleEndpoints.SeeOther(AccountPath(account.Id));
    }

    public static Task<IResult> AccountAsync(string accountId, HttpContext http, IServiceProvider services) =>
        AccountPageAsync(accountId, http, services, problem: null);

    public static async Task<IResult> IssueKeyAsync(string accountId, HttpContext http, IAccountStore accounts)
    {
        if (await accounts.IssueKeyAsync(accountId, http.RequestAborted) is not { } issued)
        {
            return NoAccount(http);
        }

        // The only time the key is shown: this answer is not stored (Cache-Control: no-store, ConsoleHeaders) and
        // never rendered again; the store keeps its hash.
        return ConsoleEndpoints.Page<KeyIssuedPage>(http, new ConsoleFrame(Operator, "Key issued"), new()
        {
            ["AccountId"] = accountId,
            ["Key"] = issued.Info,
            ["Secret"] = issued.Secret,
        });
    }

    public static async Task<IResult> RevokeKeyAsync(string accountId, string keyId, HttpContext http, IAccountStore accounts)
    {
        var keys = await accounts.ListKeysAsync(accountId, http.RequestAborted);
        if (!keys.Any(key => key.KeyId == keyId))
        {
            return ConsoleEndpoints.Message(http, Operator, StatusCodes.Status404NotFound, "No such key", "That account has no such key.");
        }

        await accounts.RevokeKeyAsync(keyId, http.RequestAborted);
        return ConsoleEndpoints.SeeOther(AccountPath(accountId));
    }

    public static async Task<IResult> SetPolicyAsync(string accountId, HttpContext http, IAccountStore accounts, ICreditLedger ledger, IServiceProvider services)
    {
        var form = await http.Request.ReadFormAsync(http.RequestAborted);
        var kind = form["kind"].ToString().Trim();
        var limitText = form["limit"].ToString().Trim();
        decimal? limit = null;
        if (limitText.Length > 0)
        {
            if (!decimal.TryParse(limitText, NumberStyles.Number, CultureInfo.InvariantCulture, out var parsed))
            {
                return await AccountPageAsync(accountId, http, services, "The limit must be a number of contract units, e.g. 500.");
            }

            limit = parsed;
        }

        // The admin API's own check (PUT /admin/accounts/{id}/policy).
        if (!CreditsEndpoints.TryReadPolicy(new PolicyView(kind, kind == "allow_up_to" ? limit : null), out var policy, out var problem))
        {
            return await AccountPageAsync(accountId, http, services, problem);
        }

        if (await accounts.GetAccountAsync(accountId, http.RequestAborted) is null)
        {
            return NoAccount(http);
        }

        await ledger.SetPolicyAsync(accountId, policy, http.RequestAborted);
        return ConsoleEndpoints.SeeOther(AccountPath(accountId));
    }

    public static async Task<IResult> SetRateLimitsAsync(string accountId, HttpContext http, IAccountStore accounts, IRateLimitPolicyStore policies, IServiceProvider services)
    {
        var form = await http.Request.ReadFormAsync(http.RequestAborted);
        if (!TryLimit(form["tokens_per_minute"].ToString(), out var tokens) || !TryLimit(form["requests_per_minute"].ToString(), out var requests))
        {
            return await AccountPageAsync(accountId, http, services, "A limit is a whole number per minute, or empty for no limit.");
        }

        // The admin API's own check (PUT /admin/accounts/{id}/rate-limits).
        var policy = new RateLimitPolicy(tokens, requests);
        if (policy.Problem("tokens per minute", "requests per minute") is { } problem)
        {
            return await AccountPageAsync(accountId, http, services, problem);
        }

        if (await accounts.GetAccountAsync(accountId, http.RequestAborted) is null)
        {
            return NoAccount(http);
        }

        await policies.SetAsync(RateLimitSubject.Account(accountId), policy, http.RequestAborted);
        return ConsoleEndpoints.SeeOther(AccountPath(accountId));
    }

    public static async Task<IResult> UsageAsync(
        HttpContext http, IUsageStore usage, string? account, string? model, string? status, string? from, string? to, string? before)
    {
        var filters = new UsageFilters(Blank(account), Blank(model), Blank(status), Blank(from), Blank(to));
        if (filters.Problem() is { } problem)
        {
            return ConsoleEndpoints.Page<UsageListPage>(http, new ConsoleFrame(Operator, "Usage"), new()
            {
                ["Filters"] = filters,
                ["Records"] = Array.Empty<UsageRecord>(),
                ["Problem"] = problem,
            }, StatusCodes.Status400BadRequest);
        }

        var records = await usage.QueryAsync(filters.Query(filters.Account, Blank(before), ConsoleEndpoints.PageSize), http.RequestAborted);
        return ConsoleEndpoints.Page<UsageListPage>(http, new ConsoleFrame(Operator, "Usage"), new()
        {
            ["Filters"] = filters,
            ["Records"] = records,
            ["NextBefore"] = records.Count == ConsoleEndpoints.PageSize ? records[^1].Id : null,
        });
    }

    public static async Task<IResult> LogAsync(HttpContext http, CheckpointPublisher publisher, LogKeys keys, IStatementStore statements, long? since)
    {
        if (!publisher.IsEnabled)
        {
            return ConsoleEndpoints.Message(http, Operator, StatusCodes.Status200OK, "Log",
                "This agent does not publish its usage log: no signing key is configured (Attestation:SigningKeyPath).");
        }

        var ct = http.RequestAborted;
        var published = await publisher.LatestAsync(ct);
        var note = SignedNote.Parse(Encoding.UTF8.GetBytes(published.Note));
        var latest = (await statements.LatestAsync(ct))?.Sequence ?? 0;
        var from = Math.Clamp(since ?? Math.Max(0, latest - ConsoleEndpoints.PageSize), 0, Math.Max(0, latest));
        var page = await statements.ListAsync(from, ConsoleEndpoints.PageSize, ct);
        return ConsoleEndpoints.Page<LogPage>(http, new ConsoleFrame(Operator, "Log"), new()
        {
            ["Checkpoint"] = note.Text,
            ["TreeSize"] = published.Size,
            ["Origin"] = keys.Origin,
            ["Signatures"] = note.Signatures,
            ["Statements"] = page,
            ["Since"] = from,
            ["Latest"] = latest,
        });
    }

    private static async Task<IResult> AccountPageAsync(string accountId, HttpContext http, IServiceProvider services, string? problem)
    {
        var ct = http.RequestAborted;
        var accounts = services.GetRequiredService<IAccountStore>();
        if (await accounts.GetAccountAsync(accountId, ct) is not { } account)
        {
            return NoAccount(http);
        }

        var ledger = services.GetRequiredService<ICreditLedger>();
        var now = services.GetRequiredService<TimeProvider>().GetUtcNow();
        var lots = await CreditsEndpoints.LotsAsync(ledger, accountId, ct);
        IReadOnlyList<Reservation>? pending;
        try
        {
            pending = await ledger.GetPendingReservationsAsync(accountId, PendingShown, ct);
        }
        catch (NotSupportedException)
        {
            pending = null;
        }

        ChartData? burnDown = null;
        if (lots.Count > 0)
        {
            var from = now.AddDays(-ConsoleCharts.MaxDays);
            var earliest = lots.Min(lot => lot.WindowStart < lot.DeliveredAt ? lot.WindowStart : lot.DeliveredAt);
            var daily = await services.GetRequiredService<IUsageReports>().DailyAsync(accountId, earliest > from ? earliest : from, now.AddDays(1), ct);
            burnDown = ConsoleCharts.BurnDown(lots, daily, now);
        }

        return ConsoleEndpoints.Page<AccountPage>(http, new ConsoleFrame(Operator, account.Name, Charts: burnDown is not null), new()
        {
            ["Account"] = account,
            ["Keys"] = await accounts.ListKeysAsync(accountId, ct),
            ["Policy"] = PolicyView.From(await ledger.GetPolicyAsync(accountId, ct)),
            ["RateLimits"] = await RateLimitEndpoints.ViewAsync(accountId, null, services.GetRequiredService<IRateLimitPolicyStore>(),
                services.GetRequiredService<IOptions<RateLimitOptions>>().Value, ct),
            ["Lots"] = lots,
            ["Overage"] = Contracts.Units.ContractUnits.FromMicro(await ledger.GetOverageMicroAsync(accountId, ct)),
            ["Pending"] = pending,
            ["BurnDown"] = burnDown,
            ["Now"] = now,
            ["Problem"] = problem,
        }, problem is null ? StatusCodes.Status200OK : StatusCodes.Status400BadRequest);
    }

    private static IResult NoAccount(HttpContext http) =>
        ConsoleEndpoints.Message(http, Operator, StatusCodes.Status404NotFound, "No such account", "There is no account with that id.");

    public static string AccountPath(string accountId) => "/console/accounts/" + Uri.EscapeDataString(accountId);

    private static string? Blank(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();

    private static bool TryLimit(string text, out long? limit)
    {
        limit = null;
        text = text.Trim();
        if (text.Length == 0)
        {
            return true;
        }

        if (long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var parsed))
        {
            limit = parsed;
            return true;
        }

        return false;
    }
}
