using System.Security.Cryptography;
using System.Text;
using MeterAgent.Common;
using Microsoft.Extensions.Options;

namespace MeterAgent.Log;

/// <summary>
/// The usage log for the clearing house, on the management port: its signed head (C2SP checkpoint) behind the
/// clearing house's bearer token, and the log's public key, which anyone may read.
/// </summary>
internal static class LogEndpoints
{
    public static void MapUsageLog(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/log/key", (UsageLogTree tree) => tree.VerifierKey is { } key
            ? Results.Text(key + "\n", "text/plain; charset=utf-8")
            : Results.NotFound()).OnManagementPort();

        endpoints.MapGet("/log/checkpoint", async (HttpContext context, UsageLogTree tree, IOptions<LogOptions> options) =>
        {
            if (tree.VerifierKey is null)
            {
                return Results.NotFound();
            }

            if (!Authorized(context.Request, options.Value.ReadToken))
            {
                return Results.Problem("The log is read with the clearing house's bearer token (Attestation:ReadToken).", statusCode: StatusCodes.Status401Unauthorized);
            }

            return Results.Text(await tree.SignedCheckpointAsync(context.RequestAborted), "text/plain; charset=utf-8");
        }).OnManagementPort();
    }

    private static bool Authorized(HttpRequest request, string? token)
    {
        if (token is null || !request.Headers.Authorization.ToString().StartsWith("Bearer ", StringComparison.Ordinal))
        {
            return false;
        }

        var presented = Encoding.UTF8.GetBytes(request.Headers.Authorization.ToString()["Bearer ".Length..]);
        return CryptographicOperations.FixedTimeEquals(presented, Encoding.UTF8.GetBytes(token));
    }
}
