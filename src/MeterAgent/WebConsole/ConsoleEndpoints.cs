using MeterAgent.Common;
using MeterAgent.Ledger.Accounts;
using MeterAgent.Ledger.Availability;
using MeterAgent.WebConsole.Components;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Options;

namespace MeterAgent.WebConsole;

/// <summary>
/// The web console (docs/console.md): <c>/console</c> on the management port is the provider's operator console (signed
/// in with the admin token), <c>/console</c> on the client port an enterprise's (signed in with its client key). The
/// URLs are a contract the browser tests and verify.js build on (docs/console.md, "URLs").
/// </summary>
internal static class ConsoleEndpoints
{
    public const string Root = "/console";
    public const string SignInPath = "/console/signin";
    public const string AssetsPath = "/console/assets";
    public const string AntiforgeryField = "__RequestVerificationToken";
    public const int PageSize = 50;

    /// <summary>A console form is a few short fields; anything larger is not one of ours.</summary>
    private const int FormLimit = 16 * 1024;

    /// <summary>
    /// The security headers of every console response, and the static assets on both ports (before routing: the same
    /// files for either audience). Goes before <c>UseRouting</c>.
    /// </summary>
    public static IApplicationBuilder UseWebConsoleAssets(this IApplicationBuilder app)
    {
        app.Use(ConsoleHeaders.Apply);
        var folder = Path.Combine(AppContext.BaseDirectory, "wwwroot", "console");
        if (Directory.Exists(folder))
        {
            app.UseStaticFiles(new StaticFileOptions
            {
                FileProvider = new PhysicalFileProvider(folder),
                RequestPath = AssetsPath,
                ServeUnknownFileTypes = false,
            });
        }

        return app;
    }

    public static void MapWebConsole(this IEndpointRouteBuilder endpoints)
    {
        MapOperator(endpoints);
        MapEnterprise(endpoints);
    }

    private static RouteGroupBuilder Group(IEndpointRouteBuilder endpoints, ConsoleAudience audience)
    {
        var group = endpoints.MapGroup(Root).WithMetadata(new ConsoleAudienceMetadata(audience)).ExcludeFromDescription()
            .WithBodyLimit(FormLimit).AddEndpointFilter(AnswerOutage(audience));
        return audience == ConsoleAudience.Operator ? group.OnManagementPort() : group;
    }

    /// <summary>
    /// The audience's sign-in form and its POST (open), and sign-out; returns the group of the signed-in pages, each
    /// behind the audience's re-checked session.
    /// </summary>
    private static RouteGroupBuilder MapSignIn(IEndpointRouteBuilder endpoints, ConsoleAudience audience, Delegate signIn)
    {
        var open = Group(endpoints, audience);
        open.MapGet("/signin", (HttpContext http) => SignInForm(http, audience, null, StatusCodes.Status200OK));
        open.MapPost("/signin", signIn).AddEndpointFilter(RequireAntiforgery);

        var signedIn = Group(endpoints, audience).AddEndpointFilter(RequireSession(audience));
        signedIn.MapPost("/signout", SignOutAsync(audience)).AddEndpointFilter(RequireAntiforgery);
        return signedIn;
    }

    private static void MapOperator(IEndpointRouteBuilder endpoints)
    {
        var signedIn = MapSignIn(endpoints, ConsoleAudience.Operator, OperatorSignInAsync);
        signedIn.MapGet("", OperatorPages.HomeAsync);
        signedIn.MapGet("/accounts/{accountId}", OperatorPages.AccountAsync);
        signedIn.MapGet("/usage", OperatorPages.UsageAsync);
        signedIn.MapGet("/log", OperatorPages.LogAsync);

        var forms = Group(endpoints, ConsoleAudience.Operator).AddEndpointFilter(RequireSession(ConsoleAudience.Operator))
            .AddEndpointFilter(RequireAntiforgery);
        forms.MapPost("/accounts", OperatorPages.CreateAccountAsync);
        forms.MapPost("/accounts/{accountId}/keys", OperatorPages.IssueKeyAsync);
        forms.MapPost("/accounts/{accountId}/keys/{keyId}/revoke", OperatorPages.RevokeKeyAsync);
        forms.MapPost("/accounts/{accountId}/policy", OperatorPages.SetPolicyAsync);
        forms.MapPost("/accounts/{accountId}/rate-limits", OperatorPages.SetRateLimitsAsync);
    }

    private static void MapEnterprise(IEndpointRouteBuilder endpoints)
    {
        var signedIn = MapSignIn(endpoints, ConsoleAudience.Enterprise, EnterpriseSignInAsync);
        signedIn.MapGet("", EnterprisePages.HomeAsync);
        signedIn.MapGet("/records", EnterprisePages.RecordsAsync);
        signedIn.MapGet("/api/proof/{usageId}", EnterprisePages.ProofAsync);
    }

    /// <summary>A page: the component rendered on the server, with the frame every page shares.</summary>
    public static RazorComponentResult Page<TComponent>(HttpContext http, ConsoleFrame frame, Dictionary<string, object?> parameters, int status = StatusCodes.Status200OK)
        where TComponent : Microsoft.AspNetCore.Components.IComponent
    {
        parameters["Frame"] = frame with { Antiforgery = http.RequestServices.GetRequiredService<IAntiforgery>().GetAndStoreTokens(http).RequestToken };
        return new RazorComponentResult<TComponent>(parameters) { StatusCode = status };
    }

    /// <summary>A short page that says one thing (a refusal, a missing account): plain words, no detail of the request.</summary>
    public static RazorComponentResult Message(HttpContext http, ConsoleAudience audience, int status, string title, string text, bool signedIn = true) =>
        Page<MessagePage>(http, new ConsoleFrame(audience, title, signedIn), new() { ["Text"] = text }, status);

    /// <summary>303: after a form, the browser asks the next page with GET.</summary>
    public static IResult SeeOther(string location) => new SeeOtherResult(location);

    private static RazorComponentResult SignInForm(HttpContext http, ConsoleAudience audience, string? problem, int status) =>
        Page<SignInPage>(http, new ConsoleFrame(audience, "Sign in", SignedIn: false), new() { ["Problem"] = problem }, status);

    private static async Task<IResult> OperatorSignInAsync(HttpContext http, IOptionsMonitor<MeterAgentOptions> options, AuthFailureThrottle throttle)
    {
        var expected = options.CurrentValue.AdminToken;
        if (string.IsNullOrEmpty(expected))
        {
            return SignInForm(http, ConsoleAudience.Operator, "The operator console is off: set MeterAgent:AdminToken.", StatusCodes.Status403Forbidden);
        }

        if (throttle.IsThrottled(http, out var retryAfter))
        {
            return SignInForm(http, ConsoleAudience.Operator, Throttled(retryAfter), StatusCodes.Status429TooManyRequests);
        }

        var form = await http.Request.ReadFormAsync(http.RequestAborted);
        var presented = form["token"].ToString().Trim();
        if (!AdminEndpointsFilter.TokenMatches(presented, expected))
        {
            throttle.RecordFailure(http);
            return SignInForm(http, ConsoleAudience.Operator, "Sign-in failed: that is not the admin token.", StatusCodes.Status401Unauthorized);
        }

        await http.SignInAsync(ConsoleSessions.OperatorScheme, ConsoleSessions.Operator(expected));
        return SeeOther(Root);
    }

    private static async Task<IResult> EnterpriseSignInAsync(HttpContext http, IAccountStore accounts, AuthFailureThrottle throttle, IStoreAvailability? availability)
    {
        if (throttle.IsThrottled(http, out var retryAfter))
        {
            return SignInForm(http, ConsoleAudience.Enterprise, Throttled(retryAfter), StatusCodes.Status429TooManyRequests);
        }

        var form = await http.Request.ReadFormAsync(http.RequestAborted);
        var presented = form["key"].ToString().Trim();
        ApiKeyInfo? key;
        try
        {
            // The proxy's own look-up: the key's SHA-256, a revoked key refused.
            key = presented.Length == 0 ? null : await accounts.AuthenticateAsync(presented, http.RequestAborted);
        }
        catch (Exception ex) when (availability is not null && availability.IsOutage(ex))
        {
            availability.Report(ex);
            ApiError.SetRetryAfter(http.Response, availability.RetryAfter);
            return SignInForm(http, ConsoleAudience.Enterprise, "The console cannot check keys now: its shared store is unavailable. Try again shortly.", StatusCodes.Status503ServiceUnavailable);
        }

        if (key is null)
        {
            throttle.RecordFailure(http);
            return SignInForm(http, ConsoleAudience.Enterprise, "Sign-in failed: that key is not valid (unknown or revoked).", StatusCodes.Status401Unauthorized);
        }

        await http.SignInAsync(ConsoleSessions.EnterpriseScheme, ConsoleSessions.Enterprise(key));
        return SeeOther(Root);
    }

    private static Func<HttpContext, Task<IResult>> SignOutAsync(ConsoleAudience audience) => async http =>
    {
        await http.SignOutAsync(ConsoleSessions.Scheme(audience));
        return SeeOther(SignInPath);
    };

    private static string Throttled(TimeSpan retryAfter) =>
        $"Too many failed sign-ins from this address: try again in {Math.Ceiling(retryAfter.TotalSeconds)} s.";

    /// <summary>
    /// The audience's session, re-checked (a revoked key or a changed admin token ends it); without one, a page
    /// sends the browser to sign in and the proof API answers 401.
    /// </summary>
    private static Func<EndpointFilterInvocationContext, EndpointFilterDelegate, ValueTask<object?>> RequireSession(ConsoleAudience audience) =>
        async (context, next) =>
        {
            var http = context.HttpContext;
            var result = await http.AuthenticateAsync(ConsoleSessions.Scheme(audience));
            if (!result.Succeeded || result.Principal is null)
            {
                return http.Request.Path.StartsWithSegments("/console/api", StringComparison.Ordinal)
                    ? Results.Problem("Sign in to the console first.", statusCode: StatusCodes.Status401Unauthorized)
                    : SeeOther(SignInPath);
            }

            // Antiforgery tokens are bound to this user, so a token from another session does not pass.
            http.User = result.Principal;
            return await next(context);
        };

    /// <summary>
    /// Outermost on every console endpoint: when the shared store is unreachable (distributed mode), whatever the page
    /// was reading (the session's key re-check, a balance, a list), the answer is a 503 page with retry-after in place of
    /// a 500; the proof API answers a problem.
    /// </summary>
    private static Func<EndpointFilterInvocationContext, EndpointFilterDelegate, ValueTask<object?>> AnswerOutage(ConsoleAudience audience) =>
        async (context, next) =>
        {
            try
            {
                return await next(context);
            }
            catch (Exception ex) when (context.HttpContext.RequestServices.GetService<IStoreAvailability>() is { } availability && availability.IsOutage(ex))
            {
                var http = context.HttpContext;
                availability.Report(ex);
                ApiError.SetRetryAfter(http.Response, availability.RetryAfter);
                const string Text = "The console cannot read its shared store now (it is unavailable). Try again shortly.";
                return http.Request.Path.StartsWithSegments("/console/api", StringComparison.Ordinal)
                    ? Results.Problem(Text, statusCode: StatusCodes.Status503ServiceUnavailable)
                    : Message(http, audience, StatusCodes.Status503ServiceUnavailable, "Unavailable", Text, signedIn: false);
            }
        };

    /// <summary>Every console POST carries the form's antiforgery token; one without it (or with another session's) is refused.</summary>
    private static async ValueTask<object?> RequireAntiforgery(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        if (!http.Request.HasFormContentType || !await http.RequestServices.GetRequiredService<IAntiforgery>().IsRequestValidAsync(http))
        {
            var audience = http.GetEndpoint()?.Metadata.GetMetadata<ConsoleAudienceMetadata>()?.Audience ?? ConsoleAudience.Enterprise;
            return Message(http, audience, StatusCodes.Status400BadRequest, "Form refused",
                "This form was not sent from a page of this console (or the page is too old): reload the page and try again.",
                signedIn: http.User.Identity?.IsAuthenticated == true);
        }

        return await next(context);
    }

    private sealed class SeeOtherResult(string location) : IResult
    {
        public Task ExecuteAsync(HttpContext httpContext)
        {
            httpContext.Response.StatusCode = StatusCodes.Status303SeeOther;
            httpContext.Response.Headers.Location = location;
            return Task.CompletedTask;
        }
    }
}
