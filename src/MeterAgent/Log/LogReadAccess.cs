using System.Security.Cryptography;
using System.Text;
using MeterAgent.Common;
using Microsoft.Extensions.Options;

namespace MeterAgent.Log;

/// <summary>
/// The log's contents (checkpoint, tiles, proofs) are the clearing house's to read, with Attestation:ReadToken as a
/// bearer token; the keys are public. Unsigned (no key configured), the log is not published at all: 404.
/// </summary>
internal static class LogReadAccess
{
    public static async ValueTask<object?> RequireReadToken(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        if (!http.RequestServices.GetRequiredService<CheckpointPublisher>().IsEnabled)
        {
            return NotPublished();
        }

        var throttle = http.RequestServices.GetService<AuthFailureThrottle>();
        if (throttle is not null && throttle.IsThrottled(http, out var retryAfter))
        {
            return AuthFailureThrottle.Problem(retryAfter);
        }

        var expected = http.RequestServices.GetRequiredService<IOptions<LogOptions>>().Value.ReadToken;
        var header = http.Request.Headers.Authorization.ToString();
        var presented = header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? header[7..].Trim() : null;

        // Hashed first, so the comparison takes as long whatever the presented token's length.
        if (expected is null || presented is null || !CryptographicOperations.FixedTimeEquals(
                SHA256.HashData(Encoding.UTF8.GetBytes(presented)),
                SHA256.HashData(Encoding.UTF8.GetBytes(expected))))
        {
            throttle?.RecordFailure(http);
            return Results.Problem("The log is read with the clearing house's bearer token (Attestation:ReadToken).", statusCode: StatusCodes.Status401Unauthorized);
        }

        return await next(context);
    }

    public static IResult NotPublished() =>
        Results.Problem("This agent does not publish its usage log: no signing key is configured (Attestation:SigningKeyPath).", statusCode: StatusCodes.Status404NotFound);
}
