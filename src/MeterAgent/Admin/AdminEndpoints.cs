using MeterAgent.Ledger.Accounts;
using MeterAgent.Ledger.Usage;
using MeterAgent.ApiDocs;
using MeterAgent.Common;

namespace MeterAgent.Admin;

/// <summary>The provider's admin API on the management port: accounts, client keys, usage records, rate limits.</summary>
internal static class AdminEndpoints
{
    public static void MapAdminApi(this IEndpointRouteBuilder endpoints)
    {
        var admin = endpoints.MapGroup("/admin").OnManagementPort().WithBodyLimit(ManagementBody.AdminJsonLimit)
            .AddEndpointFilter(AdminEndpointsFilter.RequireAdminToken)
            .WithTags("accounts").AdminErrors();

        admin.MapPost("/accounts", async (HttpRequest request, IAccountStore accounts, CancellationToken ct) =>
        {
            var (body, error) = await AdminJsonBody.ReadAsync(request, AdminJsonContext.Default.CreateAccountRequest, """{"name":"acme"}""", ct);
            if (error is not null)
            {
                return error;
            }

            var name = body?.Name?.Trim();
            if (string.IsNullOrEmpty(name) || name.Length > 200)
            {
                return Results.Problem("'name' is required (1-200 characters).", statusCode: StatusCodes.Status400BadRequest);
            }

            var account = await accounts.CreateAccountAsync(name, ct);
            return Results.Created($"/admin/accounts/{account.Id}", account);
        }).WithName("CreateAccount").WithSummary("Create an account.")
            .Accepts<CreateAccountRequest>("application/json").Produces<Account>(StatusCodes.Status201Created)
            .ProducesProblem(StatusCodes.Status400BadRequest);

        admin.MapGet("/accounts", async (IAccountStore accounts, CancellationToken ct) =>
            Results.Ok(await accounts.ListAccountsAsync(ct)))
            .WithName("ListAccounts").WithSummary("List every account.").Produces<IReadOnlyList<Account>>();

        admin.MapGet("/accounts/{accountId}", async (string accountId, IAccountStore accounts, CancellationToken ct) =>
            await accounts.GetAccountAsync(accountId, ct) is { } account
                ? Results.Ok(account)
                : Results.Problem($"No account '{accountId}'.", statusCode: StatusCodes.Status404NotFound))
            .WithName("GetAccount").WithSummary("One account.").Produces<Account>().ProducesProblem(StatusCodes.Status404NotFound);

        admin.MapPost("/accounts/{accountId}/keys", async (string accountId, IAccountStore accounts, CancellationToken ct) =>
        {
            var issued = await accounts.IssueKeyAsync(accountId, ct);
            if (issued is null)
            {
                return Results.Problem($"No account '{accountId}'.", statusCode: StatusCodes.Status404NotFound);
            }

            var info = issued.Info;
            return Results.Created(
                $"/admin/keys/{info.KeyId}",
                new IssuedKeyResponse(info.KeyId, info.AccountId, issued.Secret, info.Prefix, info.CreatedAt));
        }).WithName("IssueKey").WithSummary("Issue a client key for the account; the only time its secret is shown.")
            .Produces<IssuedKeyResponse>(StatusCodes.Status201Created).ProducesProblem(StatusCodes.Status404NotFound);

        admin.MapGet("/accounts/{accountId}/keys", async (string accountId, IAccountStore accounts, CancellationToken ct) =>
            await accounts.GetAccountAsync(accountId, ct) is null
                ? Results.Problem($"No account '{accountId}'.", statusCode: StatusCodes.Status404NotFound)
                : Results.Ok(await accounts.ListKeysAsync(accountId, ct)))
            .WithName("ListKeys").WithSummary("The account's client keys (never their secrets).")
            .Produces<IReadOnlyList<ApiKeyInfo>>().ProducesProblem(StatusCodes.Status404NotFound);

        admin.MapDelete("/keys/{keyId}", async (string keyId, IAccountStore accounts, CancellationToken ct) =>
            await accounts.RevokeKeyAsync(keyId, ct)
                ? Results.NoContent()
                : Results.Problem($"No key '{keyId}'.", statusCode: StatusCodes.Status404NotFound))
            .WithName("RevokeKey").WithSummary("Revoke a client key: it is refused from the next request on.")
            .Produces(StatusCodes.Status204NoContent).ProducesProblem(StatusCodes.Status404NotFound);

        admin.MapGet("/usage", async (
            string? account, string? model, string? status, DateTimeOffset? from, DateTimeOffset? to, string? before, int? limit,
            IUsageStore usage, CancellationToken ct) =>
        {
            var pageSize = limit ?? 100;
            if (pageSize is < 1 or > 1000)
            {
                return Results.Problem("'limit' must be 1-1000.", statusCode: StatusCodes.Status400BadRequest);
            }

            UsageStatus? state = null;
            if (status is not null && (state = UsageStatusText.Parse(status)) is null)
            {
                return Results.Problem(
                    $"'status' must be one of: {UsageStatusText.Names}.",
                    statusCode: StatusCodes.Status400BadRequest);
            }

            var records = await usage.QueryAsync(new UsageQuery(account, model, from, to, before, pageSize, state), ct);
            var next = records.Count == pageSize ? records[^1].Id : null;
            return Results.Ok(new UsagePage(records, next));
        }).WithName("QueryUsage").WithSummary("Usage records, newest first, a page at a time ('before' is the last page's 'next'); filters: account, model, status, from, to.")
            .Produces<UsagePage>().ProducesProblem(StatusCodes.Status400BadRequest);

        admin.MapGet("/usage/{usageId}", async (string usageId, IUsageStore usage, CancellationToken ct) =>
            await usage.GetAsync(usageId, ct) is { } record
                ? Results.Ok(record)
                : Results.Problem($"No usage record '{usageId}'.", statusCode: StatusCodes.Status404NotFound))
            .WithName("GetUsageRecord").WithSummary("One usage record.").Produces<UsageRecord>().ProducesProblem(StatusCodes.Status404NotFound);

        admin.MapRateLimitAdmin();
    }
}
