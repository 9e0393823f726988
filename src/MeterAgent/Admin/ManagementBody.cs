using System.Buffers;
using Microsoft.AspNetCore.Mvc;

namespace MeterAgent.Admin;

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

    public static async Task<ManagementBodyRead> ReadAsync(HttpRequest request, int limit, CancellationToken cancellationToken)
    {
        if (request.ContentLength > limit)
        {
            return ManagementBodyRead.TooLarge;
        }

        // One byte past the cap is enough to know the body is too large; nothing beyond it is ever held.
        var buffer = ArrayPool<byte>.Shared.Rent(limit + 1);
        try
        {
            var length = 0;
            while (length <= limit)
            {
                var read = await request.Body.ReadAsync(buffer.AsMemory(length, limit + 1 - length), cancellationToken);
                if (read == 0)
                {
                    return new ManagementBodyRead(buffer.AsSpan(0, length).ToArray(), ManagementBodyStatus.Read);
                }

                length += read;
            }

            return ManagementBodyRead.TooLarge;
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
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
