using MeterAgent.Ledger.Accounts;
using MeterAgent.Ledger.Availability;
using MeterAgent.Metering.Surfaces;

namespace MeterAgent.Common;

/// <summary>The client's MeterAgent key, as OpenAI SDKs send it (Authorization: Bearer) or Anthropic SDKs (x-api-key), and its check.</summary>
internal static class ClientCredentials
{
    public static string? Extract(HttpRequest request) => Presented(request) is { IsEmpty: false } presented ? presented.ToString() : null;

    /// <summary>The key as presented, trimmed, in the header's own string (nothing allocated); empty when there is none.</summary>
    private static ReadOnlySpan<char> Presented(HttpRequest request)
    {
        var authorization = request.Headers.Authorization.ToString();
        if (authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            var token = authorization.AsSpan(7).Trim();
            if (!token.IsEmpty)
            {
                return token;
            }
        }

        return request.Headers["x-api-key"].ToString().AsSpan().Trim();
    }

    /// <summary>
    /// The caller's key record, or null after answering 401 in the given API's error shape (429 when the caller's
    /// address has failed too often: <see cref="AuthFailureThrottle"/>; 503, see remarks).
    /// </summary>
    /// <remarks>
    /// While the shared store is unreachable a key its replica cached (within <c>Redis:KeyCacheTtl</c>) still
    /// authenticates; one it must look up is answered 503 with retry-after, not 401: the key may well be valid.
    /// The availability and the failure throttle come from the request's services unless given: the proxy passes its own,
    /// since a look-up there would create the request's service scope for nothing.
    /// </remarks>
    public static ValueTask<ApiKeyInfo?> AuthenticateAsync(
        HttpContext context, IAccountStore accounts, ApiFamily family, IStoreAvailability? availability = null, AuthFailureThrottle? throttle = null)
    {
        availability ??= context.RequestServices.GetService<IStoreAvailability>() ?? AlwaysAvailable.Instance;
        throttle ??= context.RequestServices.GetService<AuthFailureThrottle>();
        if (throttle is not null && throttle.IsThrottled(context, out var retryAfter))
        {
            return ThrottledAsync(context, family, retryAfter);
        }

        // A valid key this replica has cached (nearly every request): answered with nothing allocated. Anything else
        // (not cached, or a refusal to answer in the API's shape) takes the full path.
        return accounts.TryAuthenticateCached(Presented(context.Request), out var cached) && cached is not null
            ? ValueTask.FromResult<ApiKeyInfo?>(cached)
            : LookUpAsync(context, accounts, family, availability, throttle);
    }

    private static async ValueTask<ApiKeyInfo?> ThrottledAsync(HttpContext context, ApiFamily family, TimeSpan retryAfter)
    {
        await ApiError.WriteAsync(context, family, StatusCodes.Status429TooManyRequests, ApiErrorKind.RateLimited,
            $"Too many failed authentications from this address: try again in {Math.Ceiling(retryAfter.TotalSeconds)} s.");
        return null;
    }

    private static async ValueTask<ApiKeyInfo?> LookUpAsync(
        HttpContext context, IAccountStore accounts, ApiFamily family, IStoreAvailability availability, AuthFailureThrottle? throttle)
    {
        var presented = Extract(context.Request);
        ApiKeyInfo? key;
        try
        {
            key = presented is null ? null : await accounts.AuthenticateAsync(presented, context.RequestAborted);
        }
        catch (Exception ex) when (availability.IsOutage(ex))
        {
            availability.Report(ex);
            await ApiError.WriteUnavailableAsync(context, family, availability.RetryAfter,
                "MeterAgent cannot check this API key now: its shared store is unavailable. Retry later.");
            return null;
        }

        if (key is null)
        {
            throttle?.RecordFailure(context);
            await ApiError.WriteAsync(context, family, StatusCodes.Status401Unauthorized, ApiErrorKind.Authentication,
                presented is null
                    ? "Missing API key: send it as 'Authorization: Bearer <key>' or 'x-api-key: <key>'."
                    : "Invalid API key.");
        }

        return key;
    }
}
