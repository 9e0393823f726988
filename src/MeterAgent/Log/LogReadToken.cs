using System.Security.Cryptography;
using System.Text;

namespace MeterAgent.Log;

/// <summary>The clearing house reads the log with a bearer token (Attestation:ReadToken), compared in fixed time.</summary>
internal static class LogReadToken
{
    public static bool IsPresented(HttpRequest request, string? token)
    {
        var header = request.Headers.Authorization.ToString();
        if (token is null || !header.StartsWith("Bearer ", StringComparison.Ordinal))
        {
            return false;
        }

        return CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(header["Bearer ".Length..]), Encoding.UTF8.GetBytes(token));
    }
}
