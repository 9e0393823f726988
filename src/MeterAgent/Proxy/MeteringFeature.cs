using MeterAgent.Contracts.Units;
using MeterAgent.Ledger.Credits;
using MeterAgent.Ledger.Outcomes;
using MeterAgent.Ledger.RateLimits;
using MeterAgent.Ledger.Usage;

namespace MeterAgent.Proxy;

/// <summary>
/// One metered request's state on its <see cref="HttpContext"/> (as YARP's IReverseProxyFeature), so transforms and
/// other middleware can read its usage id and what is known of it so far.
/// </summary>
internal sealed class MeteringFeature
{
    private RequestOutcome? _current;

    public required string UsageId { get; init; }

    public required string AccountId { get; init; }

    public required string KeyId { get; init; }

    public required string Surface { get; init; }

    public string? RouteId { get; init; }

    public string? ClusterId { get; init; }

    public required DateTimeOffset StartedAt { get; init; }

    public string? ReferenceTokenizer { get; init; }

    /// <summary>
    /// What is known of the request so far, as an outcome still <see cref="UsageStatus.Open"/>: its write-ahead record
    /// is this, and its end is this with a status (<see cref="Conclude"/>). Built once the body is parsed
    /// (<see cref="Open"/>); before that, from who sent it and where.
    /// </summary>
    public RequestOutcome Current => _current ??= Open(null, stream: false, nonTextInput: false, default);

    /// <summary>The open outcome with what the parsed body said, in one allocation (a <c>with</c> would copy it).</summary>
    public RequestOutcome Open(string? requestedModel, bool stream, bool nonTextInput, MeteredCounts counts) => _current = new()
    {
        UsageId = UsageId,
        AccountId = AccountId,
        KeyId = KeyId,
        Surface = Surface,
        RouteId = RouteId,
        ClusterId = ClusterId,
        StartedAt = StartedAt,
        Status = UsageStatus.Open,
        ReferenceTokenizer = ReferenceTokenizer,
        RequestedModel = requestedModel,
        Stream = stream,
        NonTextInput = nonTextInput,
        Counts = counts,
    };

    /// <summary>The credit reservation the request holds until it ends; null without credits or before it is granted.</summary>
    public Reservation? Reservation { get; set; }

    /// <summary>The rate limit admission, when a limit applies: its state goes out in the x-ratelimit-* headers.</summary>
    public RateLimitDecision? RateLimit { get; set; }

    /// <summary>The reference input count was taken before forwarding (credits or a token limit needed it), not after.</summary>
    public bool InputCountedAhead { get; set; }

    /// <summary><see cref="System.Diagnostics.Stopwatch"/> timestamp of the request's arrival at the proxy step.</summary>
    public long ArrivedAt { get; init; }

    /// <summary>Timestamp of the request leaving for the upstream (<see cref="UpstreamTiming"/>); 0 until then.</summary>
    public long UpstreamSentAt { get; set; }

    /// <summary>Timestamp of the upstream's response headers arriving (<see cref="UpstreamTiming"/>); 0 if they never did.</summary>
    public long UpstreamHeadersAt { get; set; }

    /// <summary>Timestamp of the response headers leaving for the client; 0 if they never did.</summary>
    public long ResponseStartedAt { get; set; }

    /// <summary>
    /// The proxy's own added latency: the client's time to response headers less the upstream's, when both happened
    /// and the headers the client got were the upstream's; null otherwise.
    /// </summary>
    public TimeSpan? ProxyOverhead =>
        UpstreamSentAt != 0 && UpstreamHeadersAt >= UpstreamSentAt && ResponseStartedAt >= UpstreamHeadersAt && ArrivedAt != 0
            ? System.Diagnostics.Stopwatch.GetElapsedTime(ArrivedAt, ResponseStartedAt) - System.Diagnostics.Stopwatch.GetElapsedTime(UpstreamSentAt, UpstreamHeadersAt)
            : null;

    /// <summary>The request's admission by the proxy's drain: set when a stop cut it (its record closes as interrupted).</summary>
    public Shutdown.DrainTicket? Drain { get; init; }

    /// <summary>The record's end has been decided (closed, or handed to settlement): no other path may end it again.</summary>
    public bool Ended { get; set; }

    /// <summary>The client's max output (max_tokens and its kin) once the body is parsed; null when it set none.</summary>
    public long? MaxOutputTokens { get; set; }

    /// <summary>
    /// The request's settlement once its end is decided: it completes when the outcome is durable and every observer
    /// has seen it, or faults when settling failed. Set before the metering step returns, so middleware around it (the
    /// request's span) can finish after the client has its response without holding the client; null until then.
    /// </summary>
    public Task<SettledRequest>? Settlement { get; set; }

    /// <summary>The request's outcome: what is known of it, ended with a status.</summary>
    public RequestOutcome Conclude(UsageStatus status, int? httpStatus, string? error, DateTimeOffset endedAt)
    {
        var current = Current;
        return End(status, httpStatus, error, endedAt, current.Forwarded, current.Counts, current.ServedModel, current.FirstTokenAt, current.Flags);
    }

    /// <summary><see cref="Conclude"/> for a request that went upstream, with what the response metered.</summary>
    public RequestOutcome ConcludeForwarded(UsageStatus status, int? httpStatus, string? error, DateTimeOffset endedAt,
        MeteredCounts counts, string? servedModel, DateTimeOffset? firstTokenAt, string flags) =>
        End(status, httpStatus, error, endedAt, forwarded: true, counts, servedModel, firstTokenAt, flags);

    /// <summary>The outcome's end in one copy of <see cref="Current"/> (a second <c>with</c> would copy it again).</summary>
    private RequestOutcome End(UsageStatus status, int? httpStatus, string? error, DateTimeOffset endedAt,
        bool forwarded, MeteredCounts counts, string? servedModel, DateTimeOffset? firstTokenAt, string flags) => Current with
    {
        Status = status,
        HttpStatus = httpStatus,
        Error = error,
        EndedAt = endedAt,
        Reservation = Reservation,
        RateLimit = RateLimit?.Lease,
        Forwarded = forwarded,
        Counts = counts,
        ServedModel = servedModel,
        FirstTokenAt = firstTokenAt,
        Flags = flags,
    };
}
