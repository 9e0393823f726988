using System.Text;
using System.Text.Json;
using MeterAgent.Contracts.Deliveries;
using MeterAgent.Contracts.Specs;
using MeterAgent.Contracts.Units;
using MeterAgent.Ledger.Accounts;
using MeterAgent.Ledger.Counters;
using MeterAgent.Ledger.Credits;
using MeterAgent.Ledger.Usage;
using MeterAgent.Metering.Surfaces;
using MeterAgent.ApiDocs;
using MeterAgent.Common;

namespace MeterAgent.Credits;

/// <summary>
/// The clearing API (deliveries, management port), the provider's credit admin (management port), and the account's
/// own view of its balance and usage (client port, with the account's key).
/// </summary>
internal static class CreditsEndpoints
{
    public static void MapCredits(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapPost("/clearing/deliveries", ApplyDeliveryAsync).OnManagementPort().WithBodyLimit(ManagementBody.DeliveryLimit)
            .WithName("ApplyDelivery").WithTags("deliveries")
            .WithSummary("Apply a signed delivery notice: a compact JWS (application/jose), or {\"notice\":\"<jws>\"} (application/json).")
            .Accepts<DeliveryRequest>("application/json", "application/jose")
            .Produces<DeliveryResultView>(StatusCodes.Status201Created).Produces<DeliveryResultView>()
            .Returns(typeof(CodedProblem), StatusCodes.Status400BadRequest, "application/problem+json")
            .Returns(typeof(CodedProblem), StatusCodes.Status401Unauthorized, "application/problem+json")
            .Returns(typeof(CodedProblem), StatusCodes.Status409Conflict, "application/problem+json")
            .Returns(typeof(CodedProblem), StatusCodes.Status413PayloadTooLarge, "application/problem+json")
            .Returns(typeof(CodedProblem), StatusCodes.Status422UnprocessableEntity, "application/problem+json");

        var admin = endpoints.MapGroup("/admin").OnManagementPort().WithBodyLimit(ManagementBody.AdminJsonLimit)
            .AddEndpointFilter(AdminEndpointsFilter.RequireAdminToken)
            .WithTags("credits").AdminErrors();
        admin.MapGet("/accounts/{accountId}/lots", async (string accountId, ICreditLedger ledger, CancellationToken ct) =>
            Results.Ok(await LotsAsync(ledger, accountId, ct)))
            .WithName("ListLots").WithSummary("The account's credit lots, amounts in contract units.").Produces<IReadOnlyList<LotView>>();
        admin.MapGet("/accounts/{accountId}/policy", async (string accountId, ICreditLedger ledger, CancellationToken ct) =>
            Results.Ok(PolicyView.From(await ledger.GetPolicyAsync(accountId, ct))))
            .WithName("GetOveragePolicy").WithSummary("The account's overage policy.").Produces<PolicyView>();
        admin.MapPut("/accounts/{accountId}/policy", SetPolicyAsync)
            .WithName("SetOveragePolicy").WithSummary("Set the account's overage policy: reject, allow, or allow_up_to a limit in contract units.")
            .Accepts<PolicyView>("application/json").Produces<PolicyView>()
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status404NotFound);
        admin.MapPost("/lots/{lotId}/corrections", CorrectAsync)
            .WithName("CorrectLot").WithSummary("Correct a lot's available credit by a signed delta, with a reason.")
            .Accepts<CorrectionRequest>("application/json").Produces<LotView>()
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict);

        var account = endpoints.MapGroup("/v1/meteragent").WithTags("account").AccountErrors();
        account.MapGet("/balance", BalanceAsync)
            .WithName("GetBalance").WithSummary("The caller's account: credit lots, overage, policy and usage totals.")
            .Produces<BalanceView>();
        account.MapGet("/usage", UsageAsync)
            .WithName("ListOwnUsage").WithSummary("The caller's account's usage records, newest first, a page at a time.")
            .Produces<UsagePage>().Returns(typeof(ApiErrorResponse), StatusCodes.Status400BadRequest);
    }

    private static async Task<IResult> ApplyDeliveryAsync(
        HttpRequest request, TrustedKeys keys, ContractCatalog catalog, ICreditLedger ledger, TimeProvider clock, CancellationToken ct)
    {
        // Unauthenticated: the cap applies before anything is buffered (see ManagementBody).
        var body = await ManagementBody.ReadAsync(request, ManagementBody.DeliveryLimit, ct);
        switch (body.Status)
        {
            case ManagementBodyStatus.TooLarge:
                return Problem(StatusCodes.Status413PayloadTooLarge, "too_large",
                    $"A delivery body is at most {ManagementBody.DeliveryLimit} bytes: a notice is a compact JWS of at most {DeliveryFormat.MaxCompactLength} characters.");
            case ManagementBodyStatus.Unreadable:
                return Problem(StatusCodes.Status400BadRequest, "malformed", "The request body could not be read (broken chunked encoding or cut short).");
        }

        string? jws;
        if (request.HasJsonContentType())
        {
            try
            {
                jws = JsonSerializer.Deserialize(body.Bytes, CreditsJsonContext.Default.DeliveryRequest)?.Notice;
            }
            catch (JsonException)
            {
                return Problem(StatusCodes.Status400BadRequest, "malformed", DeliveryBodyShape);
            }
        }
        else
        {
            // Invalid UTF-8 becomes U+FFFD, which no base64url segment contains: the verifier calls it malformed.
            jws = Encoding.UTF8.GetString(body.Bytes);
        }

        if (string.IsNullOrWhiteSpace(jws))
        {
            return Problem(StatusCodes.Status400BadRequest, "malformed", DeliveryBodyShape);
        }

        var now = clock.GetUtcNow();
        var verification = keys.Current.Verify(jws.Trim(), catalog, now);
        if (verification.Notice is not { } notice)
        {
            var status = verification.ErrorCode switch
            {
                "bad_signature" or "unknown_key" or "unsupported_alg" => StatusCodes.Status401Unauthorized,
                "malformed" => StatusCodes.Status400BadRequest,
                _ => StatusCodes.Status422UnprocessableEntity,
            };
            return Problem(status, verification.ErrorCode ?? "invalid", verification.Message ?? "The delivery notice was refused.");
        }

        var outcome = await ledger.ApplyDeliveryAsync(notice, now, ct);
        return outcome.Kind switch
        {
            DeliveryOutcomeKind.Applied => Results.Created($"/admin/accounts/{notice.AccountId}/lots", new DeliveryResultView("applied", LotView.From(outcome.Lot!))),
            DeliveryOutcomeKind.Replayed => Results.Ok(new DeliveryResultView("replayed", LotView.From(outcome.Lot!))),
            DeliveryOutcomeKind.Conflict => Problem(StatusCodes.Status409Conflict, "conflict", $"Delivery '{notice.DeliveryId}' was already applied with a different payload."),
            _ => Problem(StatusCodes.Status422UnprocessableEntity, "unknown_account", $"No account '{notice.AccountId}'."),
        };
    }

    private static async Task<IResult> SetPolicyAsync(string accountId, HttpRequest request, IAccountStore accounts, ICreditLedger ledger, CancellationToken ct)
    {
        var (body, error) = await AdminJsonBody.ReadAsync(request, CreditsJsonContext.Default.PolicyView, PolicyShape, ct);
        if (body is null)
        {
            return error!;
        }

        if (!TryReadPolicy(body, out var policy, out var problem))
        {
            return Results.Problem(problem, statusCode: StatusCodes.Status400BadRequest);
        }

        if (await accounts.GetAccountAsync(accountId, ct) is null)
        {
            return Results.Problem($"No account '{accountId}'.", statusCode: StatusCodes.Status404NotFound);
        }

        await ledger.SetPolicyAsync(accountId, policy, ct);
        return Results.Ok(PolicyView.From(policy));
    }

    /// <summary>
    /// The overage policy <paramref name="view"/> asks for, or why it is not one: the one check the admin API and the
    /// operator console's form share.
    /// </summary>
    public static bool TryReadPolicy(PolicyView view, out OveragePolicy policy, out string problem)
    {
        policy = OveragePolicy.Reject;
        if (view.Kind is not ("reject" or "allow" or "allow_up_to") || (view.Kind == "allow_up_to" && view.Limit is not >= 0))
        {
            problem = $"'kind' must be reject, allow or allow_up_to (with a non-negative 'limit' in contract units): {PolicyShape}.";
            return false;
        }

        long limitMicro = 0;
        if (view.Kind == "allow_up_to" && !UnitAmount.TryToMicro(view.Limit!.Value, "limit", out limitMicro, out var unitProblem))
        {
            problem = unitProblem;
            return false;
        }

        policy = view.Kind switch
        {
            "reject" => OveragePolicy.Reject,
            "allow" => new OveragePolicy(OveragePolicyKind.Allow),
            _ => new OveragePolicy(OveragePolicyKind.AllowUpTo, limitMicro),
        };
        problem = string.Empty;
        return true;
    }

    private static async Task<IResult> CorrectAsync(string lotId, HttpRequest request, ICreditLedger ledger, TimeProvider clock, CancellationToken ct)
    {
        var (body, error) = await AdminJsonBody.ReadAsync(request, CreditsJsonContext.Default.CorrectionRequest, CorrectionShape, ct);
        if (body is null)
        {
            return error!;
        }

        if (body.Delta is not { } delta || delta == 0 || string.IsNullOrWhiteSpace(body.Reason))
        {
            return Results.Problem($"A correction needs a non-zero 'delta' (contract units) and a 'reason': {CorrectionShape}.", statusCode: StatusCodes.Status400BadRequest);
        }

        if (!UnitAmount.TryToMicro(Math.Abs(delta), "delta", out var magnitude, out var problem))
        {
            return Results.Problem(problem, statusCode: StatusCodes.Status400BadRequest);
        }

        CreditLot? lot;
        try
        {
            lot = await ledger.CorrectAsync(lotId, magnitude * Math.Sign(delta), body.Reason.Trim(), clock.GetUtcNow(), ct);
        }
        catch (KeyNotFoundException)
        {
            return Results.Problem($"No lot '{lotId}'.", statusCode: StatusCodes.Status404NotFound);
        }

        return lot is null
            ? Results.Problem($"The correction of {delta} would take lot '{lotId}''s available credit below zero (credits reserved or redeemed cannot be taken back).", statusCode: StatusCodes.Status409Conflict)
            : Results.Ok(LotView.From(lot));
    }

    private static async Task BalanceAsync(HttpContext context, IAccountStore accounts, ICreditLedger ledger, IUsageCounters counters)
    {
        if (await ClientCredentials.AuthenticateAsync(context, accounts, ApiError.GuessFamily(context.Request)) is not { } key)
        {
            return;
        }

        var ct = context.RequestAborted;
        var balance = await BalanceOfAsync(key.AccountId, ledger, counters, ct);
        await context.Response.WriteAsJsonAsync(balance, CreditsJsonContext.Default.BalanceView, cancellationToken: ct);
    }

    /// <summary>An account's balance: what <c>GET /v1/meteragent/balance</c> answers, and the enterprise console shows.</summary>
    public static async Task<BalanceView> BalanceOfAsync(string accountId, ICreditLedger ledger, IUsageCounters counters, CancellationToken ct) => new(
        accountId,
        await LotsAsync(ledger, accountId, ct),
        ContractUnits.FromMicro(await ledger.GetOverageMicroAsync(accountId, ct)),
        ContractUnits.FromMicro(await ledger.GetOverageHeldMicroAsync(accountId, ct)),
        PolicyView.From(await ledger.GetPolicyAsync(accountId, ct)),
        [.. (await counters.ReadAsync(accountId, ct)).Select(row => UsageTotalsView.From(row.ContractId, row.Model, row.Totals))]);

    private static async Task UsageAsync(HttpContext context, IAccountStore accounts, IUsageStore usage, string? model, DateTimeOffset? from, DateTimeOffset? to, string? before, int? limit)
    {
        if (await ClientCredentials.AuthenticateAsync(context, accounts, ApiError.GuessFamily(context.Request)) is not { } key)
        {
            return;
        }

        var pageSize = limit ?? 100;
        if (pageSize is < 1 or > 1000)
        {
            await ApiError.WriteAsync(context, ApiFamily.OpenAI, StatusCodes.Status400BadRequest, ApiErrorKind.InvalidRequest, "'limit' must be 1-1000.", "limit");
            return;
        }

        var records = await usage.QueryAsync(new UsageQuery(key.AccountId, model, from, to, before, pageSize), context.RequestAborted);
        var page = new UsagePage(records, records.Count == pageSize ? records[^1].Id : null);
        await context.Response.WriteAsJsonAsync(page, CreditsJsonContext.Default.UsagePage, cancellationToken: context.RequestAborted);
    }

    public static async Task<IReadOnlyList<LotView>> LotsAsync(ICreditLedger ledger, string accountId, CancellationToken ct)
    {
        var lots = await ledger.GetLotsAsync(accountId, ct);
        var views = new LotView[lots.Count];
        for (var i = 0; i < views.Length; i++)
        {
            views[i] = LotView.From(lots[i]);
        }

        return views;
    }

    private const string DeliveryBodyShape = "The body must be a compact JWS (application/jose) or {\"notice\":\"<jws>\"} (application/json).";

    private const string PolicyShape = """{"kind":"allow_up_to","limit":500}""";

    private const string CorrectionShape = """{"delta":-10,"reason":"..."}""";

    private static IResult Problem(int status, string code, string detail) =>
        Results.Problem(detail, statusCode: status, extensions: new Dictionary<string, object?> { ["code"] = code });
}
