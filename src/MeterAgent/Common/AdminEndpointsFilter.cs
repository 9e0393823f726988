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
        if (!CryptographicOperations.FixedTimeEquals(
                SHA256.HashData(Encoding.UTF8.GetBytes(presented)),
                SHA256.HashData(Encoding.UTF8.GetBytes(expected))))
        {
            throttle?.RecordFailure(http);
            return Results.Problem("Missing or wrong admin token.", statusCode: StatusCodes.Status401Unauthorized);
        }

        return await next(context);
    }
}
