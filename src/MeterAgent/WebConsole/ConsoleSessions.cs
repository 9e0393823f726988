using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using MeterAgent.Common;
using MeterAgent.Ledger.Accounts;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.Extensions.Options;

namespace MeterAgent.WebConsole;

/// <summary>
/// The consoles' sign-in sessions: an ASP.NET Core cookie per audience, holding ids and a role only (never the admin
/// token or the client key), re-checked on every request so a revoked key or a changed admin token ends its sessions
/// at the next page.
/// </summary>
internal static class ConsoleSessions
{
    public const string OperatorScheme = "MeterAgent.Console.Operator";
    public const string EnterpriseScheme = "MeterAgent.Console.Enterprise";

    public const string RoleOperator = "operator";
    public const string RoleEnterprise = "enterprise";

    public const string AccountIdClaim = "meteragent:account_id";
    public const string KeyIdClaim = "meteragent:key_id";

    /// <summary>Which admin token an operator session was opened with: a keyed digest of it, see <see cref="TokenEpoch"/>.</summary>
    public const string TokenEpochClaim = "meteragent:token_epoch";

    /// <summary>How long a session lasts without a request (sliding: each request in the second half renews it).</summary>
    public static readonly TimeSpan IdleTimeout = TimeSpan.FromMinutes(30);

    public static string Scheme(ConsoleAudience audience) => audience == ConsoleAudience.Operator ? OperatorScheme : EnterpriseScheme;

    public static AuthenticationBuilder AddConsoleCookies(this AuthenticationBuilder builder) => builder
        .AddCookie(OperatorScheme, options => Configure(options, "meteragent_console_operator", ValidateOperatorAsync))
        .AddCookie(EnterpriseScheme, options => Configure(options, "meteragent_console_enterprise", ValidateEnterpriseAsync));

    private static void Configure(CookieAuthenticationOptions options, string cookieName, Func<CookieValidatePrincipalContext, Task> validate)
    {
        // Both listeners usually share a host name, and browsers do not tell cookies apart by port: one cookie name
        // per audience, so an operator session is never read as an enterprise's (each console reads only its own).
        options.Cookie.Name = cookieName;
        options.Cookie.Path = ConsoleEndpoints.Root;
        options.Cookie.HttpOnly = true;
        options.Cookie.SameSite = SameSiteMode.Strict;
        options.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
        options.ExpireTimeSpan = IdleTimeout;
        options.SlidingExpiration = true;
        options.LoginPath = ConsoleEndpoints.SignInPath;
        options.Events.OnValidatePrincipal = validate;
    }

    public static ClaimsPrincipal Operator(string adminToken) => Principal(OperatorScheme, RoleOperator,
        new Claim(TokenEpochClaim, TokenEpoch(adminToken)));

    public static ClaimsPrincipal Enterprise(ApiKeyInfo key) => Principal(EnterpriseScheme, RoleEnterprise,
        new Claim(AccountIdClaim, key.AccountId), new Claim(KeyIdClaim, key.KeyId));

    public static string? AccountId(ClaimsPrincipal user) => user.FindFirstValue(AccountIdClaim);

    private static ClaimsPrincipal Principal(string scheme, string role, params Claim[] claims) =>
        new(new ClaimsIdentity([new Claim(ClaimTypes.Role, role), new Claim(ClaimTypes.Name, role), .. claims], scheme));

    /// <summary>
    /// A short digest that names which admin token opened the session, so replacing the token ends every operator
    /// session; it is keyed and truncated (128 bits of SHA-256 over a fixed label and the token), so it tells nothing
    /// usable about the token itself, and the cookie carrying it is encrypted anyway.
    /// </summary>
    internal static string TokenEpoch(string adminToken) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes("meteragent-console-operator\n" + adminToken)).AsSpan(0, 16));

    private static Task ValidateOperatorAsync(CookieValidatePrincipalContext context)
    {
        var expected = context.HttpContext.RequestServices.GetRequiredService<IOptionsMonitor<MeterAgentOptions>>().CurrentValue.AdminToken;
        var epoch = context.Principal?.FindFirstValue(TokenEpochClaim);
        if (string.IsNullOrEmpty(expected) || epoch is null
            || !CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(epoch), Encoding.ASCII.GetBytes(TokenEpoch(expected))))
        {
            return RejectAsync(context);
        }

        return Task.CompletedTask;
    }

    private static async Task ValidateEnterpriseAsync(CookieValidatePrincipalContext context)
    {
        var accountId = context.Principal?.FindFirstValue(AccountIdClaim);
        var keyId = context.Principal?.FindFirstValue(KeyIdClaim);
        if (accountId is null || keyId is null)
        {
            await RejectAsync(context);
            return;
        }

        // The key must still be active now, not when the session opened: a revocation ends the session at once.
        var accounts = context.HttpContext.RequestServices.GetRequiredService<IAccountStore>();
        var keys = await accounts.ListKeysAsync(accountId, context.HttpContext.RequestAborted);
        if (!keys.Any(key => key.KeyId == keyId && key.RevokedAt is null))
        {
            await RejectAsync(context);
        }
    }

    private static Task RejectAsync(CookieValidatePrincipalContext context)
    {
        context.RejectPrincipal();
        return context.HttpContext.SignOutAsync(context.Scheme.Name);
    }
}
