using Microsoft.AspNetCore.Mvc;

namespace MeterAgent.Common;

/// <summary>
/// Reads a management-port request body with a hard cap. The management port answers the clearing house without
/// client credentials, so a body is never buffered past its endpoint's cap: not when Content-Length says it is larger,
/// and not when a chunked body without Content-Length keeps coming.
/// </summary>
internal static class ManagementBody
{
    /// <summary>Admin calls take a few small JSON members; 64 KiB leaves room for long reasons and names.</summary>
    public const int AdminJsonLimit = 64 * 1024;

    /// <summary>The verifier's notice cap, plus room for the <c>{"notice": ...}</c> wrapper and whitespace.</summary>
    public const int DeliveryLimit = Contracts.Deliveries.DeliveryFormat.MaxCompactLength + 1024;

    /// <summary>
    /// Endpoint metadata that sets Kestrel's per-request body limit (routing applies it before the handler runs), so
    /// Kestrel stops a body near the cap even where a handler does not read it, and stops draining an unread rest after
    /// the answer. Kestrel counts chunk framing against its limit, so it is set at twice the cap: the exact cap, in
    /// the API's own shape, is <see cref="ReadAsync"/>'s.
    /// </summary>
    public static TBuilder WithBodyLimit<TBuilder>(this TBuilder builder, int bytes)
        where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(new RequestSizeLimitAttribute(2L * bytes));

    /// <summary>The body read with the proxy's bounded reader (<see cref="RequestBody"/>), never held past the cap.</summary>
    public static async Task<ManagementBodyRead> ReadAsync(HttpRequest request, int limit, CancellationToken cancellationToken)
    {
        try
        {
            using var body = await RequestBody.ReadAsync(request, limit, cancellationToken);
            return body is null ? ManagementBodyRead.TooLarge : new ManagementBodyRead(body.Span.ToArray(), ManagementBodyStatus.Read);
        }
        catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            // Kestrel's own per-request limit (set by WithBodyLimit) tripped first.
            return ManagementBodyRead.TooLarge;
        }
        catch (BadHttpRequestException)
        {
            // A broken chunked encoding or a body cut short: the client's fault, answered as such.
            return ManagementBodyRead.Unreadable;
        }
    }
}
