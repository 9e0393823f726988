using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;

namespace MeterAgent.Common;

/// <summary>Every /admin endpoint needs MeterAgent:AdminToken as a bearer token; unset, the admin API is off.</summary>
internal static class AdminEndpointsFilter
{
    public static async ValueTask<object?> RequireAdminToken(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        var expected = http.RequestServices.GetRequiredService<IOptionsMonitor<MeterAgentOptions>>().CurrentValue.AdminToken;
        if (string.IsNullOrEmpty(expected))
        {
            return Results.Problem("The admin API is disabled: set MeterAgent:AdminToken.", statusCode: StatusCodes.Status403Forbidden);
        }

        var throttle = http.RequestServices.GetService<AuthFailureThrottle>();
        if (throttle is not null && throttle.IsThrottled(http, out var retryAfter))
        {
            return AuthFailureThrottle.Problem(retryAfter);
        }

        var header = http.Request.Headers.Authorization.ToString();
        var presented = header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? header[7..].Trim() : string.Empty;
        if (!TokenMatches(presented, expected))
        {
            throttle?.RecordFailure(http);
            return Results.Problem("Missing or wrong admin token.", statusCode: StatusCodes.Status401Unauthorized);
        }

        return await next(context);
    }

    /// <summary>
    /// Whether <paramref name="presented"/> is the admin token, in constant time: both are hashed first, so neither
    /// the content nor the length of the token leaks through the comparison's timing (the admin API and the console).
    /// </summary>
    public static bool TokenMatches(string presented, string expected) =>
        CryptographicOperations.FixedTimeEquals(
            SHA256.HashData(Encoding.UTF8.GetBytes(presented)),
            SHA256.HashData(Encoding.UTF8.GetBytes(expected)));
}
