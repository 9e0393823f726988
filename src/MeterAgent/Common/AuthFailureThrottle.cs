using System.Net;
using System.Net.Sockets;
using System.Threading.RateLimiting;
using Microsoft.Extensions.Options;

namespace MeterAgent.Common;

/// <summary>
/// Failed authentication per source address (MeterAgent:AuthFailureLimit a minute, a sliding window): a bad or missing
/// client key on the client port, a bad admin or read token on the management port. Past the limit, that address's
/// requests are refused with 429 before any credential is looked at, so guessing stops rather than merely slows;
/// a success never uses the budget, and one address's failures never touch another's.
/// </summary>
/// <remarks>
/// One partition per IPv4 address and per IPv6 /64 (one host's usual allocation, so rotating addresses inside it buys
/// nothing). Memory is bounded by the partitioned limiter's own expiry: a partition whose window has refilled is idle
/// and removed within seconds, so what stays is one small limiter per address that failed in the last minute or so.
/// </remarks>
internal sealed class AuthFailureThrottle : IDisposable
{
    public static readonly TimeSpan Window = TimeSpan.FromMinutes(1);
    private const int Segments = 6;

    // A partition holds only failures of the last window, so with none recorded for longer than this no address can be
    // over its limit. Two windows: the limiter replenishes on its own heartbeat, not at the exact instant.
    private static readonly long QuietMilliseconds = (long)(2 * Window.TotalMilliseconds);

    private readonly PartitionedRateLimiter<IPAddress>? _failures;

    // When the last failure was recorded (Environment.TickCount64); long ago at start.
    private long _lastFailureAt = long.MinValue / 2;

    public AuthFailureThrottle(IOptions<MeterAgentOptions> options)
    {
        var limit = options.Value.AuthFailureLimit;
        if (limit > 0)
        {
            var perAddress = new SlidingWindowRateLimiterOptions
            {
                PermitLimit = limit,
                Window = Window,
                SegmentsPerWindow = Segments,
                QueueLimit = 0,

                // The partitioned limiter's own heartbeat replenishes: no timer per address.
                AutoReplenishment = false,
            };

            // The limiter asks for the partition on every request: its factory is made once here, not per request
            // (RateLimitPartition.GetSlidingWindowLimiter would allocate two delegates and a closure on each).
            Func<IPAddress, RateLimiter> create = _ => new SlidingWindowRateLimiter(perAddress);
            _failures = PartitionedRateLimiter.Create<IPAddress, IPAddress>(address => new RateLimitPartition<IPAddress>(address, create));
        }
    }

    /// <summary>
    /// Whether <paramref name="context"/>'s address is over its limit; if so, sets Retry-After and says how long to wait.
    /// Takes nothing from the budget.
    /// </summary>
    public bool IsThrottled(HttpContext context, out TimeSpan retryAfter)
    {
        retryAfter = TimeSpan.Zero;

        // Nearly always nothing failed lately: the limiter is not asked (its lookup allocates a closure on every call).
        if (_failures is null || Environment.TickCount64 - Volatile.Read(ref _lastFailureAt) > QuietMilliseconds)
        {
            return false;
        }

        using var lease = _failures.AttemptAcquire(Partition(context.Connection.RemoteIpAddress), 0);
        if (lease.IsAcquired)
        {
            return false;
        }

        retryAfter = lease.TryGetMetadata(MetadataName.RetryAfter, out var after) && after > TimeSpan.Zero ? after : Window / Segments;
        ApiError.SetRetryAfter(context.Response, retryAfter);
        return true;
    }

    /// <summary>Counts one failed authentication against the request's address.</summary>
    public void RecordFailure(HttpContext context)
    {
        // Noted before the budget is spent, so a check that could find it spent never skips the limiter.
        Volatile.Write(ref _lastFailureAt, Environment.TickCount64);

        // A failed lease here only means the limit was reached: the next request from this address is refused.
        _failures?.AttemptAcquire(Partition(context.Connection.RemoteIpAddress), 1).Dispose();
    }

    /// <summary>The management port's answer to a throttled address: problem+json, as its other errors.</summary>
    public static IResult Problem(TimeSpan retryAfter) => Results.Problem(
        $"Too many failed authentications from this address: try again in {Math.Ceiling(retryAfter.TotalSeconds)} s.",
        statusCode: StatusCodes.Status429TooManyRequests);

    /// <summary>The partition an address counts in: itself for IPv4, its /64 for IPv6.</summary>
    internal static IPAddress Partition(IPAddress? address)
    {
        if (address is null)
        {
            // No address (an in-memory test server, a Unix socket): one shared partition.
            return IPAddress.None;
        }

        if (address.IsIPv4MappedToIPv6)
        {
            return address.MapToIPv4();
        }

        if (address.AddressFamily != AddressFamily.InterNetworkV6)
        {
            return address;
        }

        Span<byte> bytes = stackalloc byte[16];
        address.TryWriteBytes(bytes, out _);
        bytes[8..].Clear();
        return new IPAddress(bytes);
    }

    public void Dispose() => _failures?.Dispose();
}
