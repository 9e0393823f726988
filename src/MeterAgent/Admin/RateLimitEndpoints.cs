using System.Text.Json.Serialization;
using MeterAgent.Common;
using MeterAgent.Ledger.Accounts;
using MeterAgent.Ledger.RateLimits;
using Microsoft.Extensions.Options;

namespace MeterAgent.Admin;

/// <summary>
/// An account's and a key's rate limits on the admin API: PUT sets (a null or absent member is no limit of that kind),
/// GET shows what applies and where it comes from, DELETE clears (an account falls back to RateLimits:Default*).
/// </summary>
internal static class RateLimitEndpoints
{
    private const string Shape = """{"tokens_per_minute":40000,"requests_per_minute":60}""";

    public static void MapRateLimitAdmin(this RouteGroupBuilder admin)
    {
        admin.MapGet("/accounts/{accountId}/rate-limits", (string accountId, IAccountStore accounts, IRateLimitPolicyStore policies,
            IOptions<RateLimitOptions> options, CancellationToken ct) => GetAsync(accountId, null, accounts, policies, options.Value, ct))
            .WithName("GetAccountRateLimits").WithSummary("The account's rate limits and where they come from.").Viewed();
        admin.MapGet("/accounts/{accountId}/keys/{keyId}/rate-limits", (string accountId, string keyId, IAccountStore accounts,
            IRateLimitPolicyStore policies, IOptions<RateLimitOptions> options, CancellationToken ct) => GetAsync(accountId, keyId, accounts, policies, options.Value, ct))
            .WithName("GetKeyRateLimits").WithSummary("A key's own rate limits.").Viewed();

        admin.MapPut("/accounts/{accountId}/rate-limits", (string accountId, HttpRequest request, IAccountStore accounts,
            IRateLimitPolicyStore policies, CancellationToken ct) => SetAsync(accountId, null, request, accounts, policies, ct))
            .WithName("SetAccountRateLimits").WithSummary("Set the account's rate limits (an absent member is no limit of that kind).").Set();
        admin.MapPut("/accounts/{accountId}/keys/{keyId}/rate-limits", (string accountId, string keyId, HttpRequest request,
            IAccountStore accounts, IRateLimitPolicyStore policies, CancellationToken ct) => SetAsync(accountId, keyId, request, accounts, policies, ct))
            .WithName("SetKeyRateLimits").WithSummary("Set a key's own rate limits, on top of its account's.").Set();

        admin.MapDelete("/accounts/{accountId}/rate-limits", (string accountId, IAccountStore accounts, IRateLimitPolicyStore policies,
            CancellationToken ct) => ClearAsync(accountId, null, accounts, policies, ct))
            .WithName("ClearAccountRateLimits").WithSummary("Clear the account's rate limits (RateLimits:Default* apply again).").Cleared();
        admin.MapDelete("/accounts/{accountId}/keys/{keyId}/rate-limits", (string accountId, string keyId, IAccountStore accounts,
            IRateLimitPolicyStore policies, CancellationToken ct) => ClearAsync(accountId, keyId, accounts, policies, ct))
            .WithName("ClearKeyRateLimits").WithSummary("Clear a key's own rate limits.").Cleared();
    }

    private static RouteHandlerBuilder Viewed(this RouteHandlerBuilder builder) =>
        builder.WithTags("rate limits").Produces<RateLimitsView>().ProducesProblem(StatusCodes.Status404NotFound);

    private static RouteHandlerBuilder Set(this RouteHandlerBuilder builder) =>
        builder.Viewed().Accepts<SetRateLimitsRequest>("application/json").ProducesProblem(StatusCodes.Status400BadRequest);

    private static RouteHandlerBuilder Cleared(this RouteHandlerBuilder builder) =>
        builder.WithTags("rate limits").Produces(StatusCodes.Status204NoContent).ProducesProblem(StatusCodes.Status404NotFound);

    private static async Task<IResult> GetAsync(
        string accountId, string? keyId, IAccountStore accounts, IRateLimitPolicyStore policies, RateLimitOptions options, CancellationToken ct)
    {
        if (await MissingAsync(accountId, keyId, accounts, ct) is { } missing)
        {
            return missing;
        }

        return Results.Ok(await ViewAsync(accountId, keyId, policies, options, ct));
    }

    /// <summary>What applies to an account or key and where it comes from: the admin API's answer and the operator console's.</summary>
    public static async Task<RateLimitsView> ViewAsync(
        string accountId, string? keyId, IRateLimitPolicyStore policies, RateLimitOptions options, CancellationToken ct)
    {
        var own = await policies.GetAsync(new RateLimitSubject(accountId, keyId), ct);
        var (policy, source) = own is not null
            ? (own, keyId is null ? "account" : "key")
            : keyId is null && !options.Defaults.IsUnlimited ? (options.Defaults, "default") : (RateLimitPolicy.Unlimited, "none");
        return new RateLimitsView(accountId, keyId, policy.TokensPerMinute, policy.RequestsPerMinute, source);
    }

    private static async Task<IResult> SetAsync(
        string accountId, string? keyId, HttpRequest request, IAccountStore accounts, IRateLimitPolicyStore policies, CancellationToken ct)
    {
        var (body, error) = await AdminJsonBody.ReadAsync(request, AdminJsonContext.Default.SetRateLimitsRequest, Shape, ct);
        if (error is not null)
        {
            return error;
        }

        var policy = new RateLimitPolicy(body!.TokensPerMinute, body.RequestsPerMinute);
        if (policy.Problem() is { } problem)
        {
            return Results.Problem(problem, statusCode: StatusCodes.Status400BadRequest);
        }

        if (await MissingAsync(accountId, keyId, accounts, ct) is { } missing)
        {
            return missing;
        }

        await policies.SetAsync(new RateLimitSubject(accountId, keyId), policy, ct);
        return Results.Ok(new RateLimitsView(accountId, keyId, policy.TokensPerMinute, policy.RequestsPerMinute, keyId is null ? "account" : "key"));
    }

    private static async Task<IResult> ClearAsync(
        string accountId, string? keyId, IAccountStore accounts, IRateLimitPolicyStore policies, CancellationToken ct)
    {
        if (await MissingAsync(accountId, keyId, accounts, ct) is { } missing)
        {
            return missing;
        }

        await policies.ClearAsync(new RateLimitSubject(accountId, keyId), ct);
        return Results.NoContent();
    }

    /// <summary>404 for an unknown account, or a key that is not the account's.</summary>
    private static async Task<IResult?> MissingAsync(string accountId, string? keyId, IAccountStore accounts, CancellationToken ct)
    {
        if (await accounts.GetAccountAsync(accountId, ct) is null)
        {
            return Results.Problem($"No account '{accountId}'.", statusCode: StatusCodes.Status404NotFound);
        }

        if (keyId is not null && !(await accounts.ListKeysAsync(accountId, ct)).Any(key => key.KeyId == keyId))
        {
            return Results.Problem($"No key '{keyId}' on account '{accountId}'.", statusCode: StatusCodes.Status404NotFound);
        }

        return null;
    }
}

/// <summary>A member left out is no limit of that kind; a misspelt one is refused rather than read as "no limit".</summary>
[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
internal sealed record SetRateLimitsRequest(long? TokensPerMinute, long? RequestsPerMinute);

/// <summary>What applies to the subject; <c>source</c> is account, key, default (RateLimits:Default*) or none.</summary>
public sealed record RateLimitsView(string AccountId, string? KeyId, long? TokensPerMinute, long? RequestsPerMinute, string Source);
