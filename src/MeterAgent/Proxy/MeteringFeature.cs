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
    // The write-ahead record, from OpenRecord until the close takes it to fill.
    private UsageRecord? _openRecord;

    public required string UsageId { get; init; }

    public required string AccountId { get; init; }

    public required string KeyId { get; init; }

    public required string Surface { get; init; }

    public string? RouteId { get; init; }

    public string? ClusterId { get; init; }

    public required DateTimeOffset StartedAt { get; init; }

    public string? ReferenceTokenizer { get; init; }

    /// <summary>The model the body asked for, once it is parsed (<see cref="Open"/>); null before, or when it named none.</summary>
    public string? RequestedModel { get; private set; }

    /// <summary>The body asked for a stream.</summary>
    public bool Stream { get; private set; }

    /// <summary>The body carried input other than text (images, audio, files).</summary>
    public bool NonTextInput { get; private set; }

    /// <summary>The reference input count when it was counted ahead (else 0): the only count known before forwarding.</summary>
    public long ReferenceInput { get; private set; }

    /// <summary>The counts known before forwarding (<see cref="ReferenceInput"/>, nothing else), as counts.</summary>
    public MeteredCounts Counts => new() { ReferenceInput = ReferenceInput };

    /// <summary>
    /// What is known of the request so far, as an outcome still <see cref="UsageStatus.Open"/>, for readers that want
    /// that shape (a span ended before settlement). The request's own path never builds it: its write-ahead record
    /// comes from these fields (<see cref="OpenRecord"/>) and its end is one new outcome (<see cref="Conclude"/>).
    /// </summary>
    public RequestOutcome Current => Outcome(UsageStatus.Open, null, null, null, forwarded: false, Counts, null, null, string.Empty);

    /// <summary>The write-ahead record, once, for the close to fill; null when none was opened (or it was taken).</summary>
    public UsageRecord? TakeOpenRecord() => Interlocked.Exchange(ref _openRecord, null);

    /// <summary>What the parsed body said. Until it is called the request is known by who sent it and where.</summary>
    public void Open(string? requestedModel, bool stream, bool nonTextInput, long referenceInput)
    {
        RequestedModel = requestedModel;
        Stream = stream;
        NonTextInput = nonTextInput;
        ReferenceInput = referenceInput;
    }

    /// <summary>
    /// The write-ahead record: what is known now, status open. The same record as <c>Current.ToRecord()</c>, without
    /// the open outcome in between (an allocation on every request). Kept for the close to fill again
    /// (<see cref="TakeOpenRecord"/>): the store read it when it was opened.
    /// </summary>
    public UsageRecord OpenRecord() => _openRecord = new()
    {
        Id = UsageId,
        AccountId = AccountId,
        KeyId = KeyId,
        Surface = Surface,
        RouteId = RouteId,
        ClusterId = ClusterId,
        RequestedModel = RequestedModel,
        Stream = Stream,
        StartedAt = StartedAt,
        Status = UsageStatus.Open,
        ReferenceInputTokens = ReferenceInput,
        NonTextInput = NonTextInput,
        ReferenceTokenizer = ReferenceTokenizer,
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
    public RequestOutcome Conclude(UsageStatus status, int? httpStatus, string? error, DateTimeOffset endedAt) =>
        Outcome(status, httpStatus, error, endedAt, forwarded: false, Counts, servedModel: null, firstTokenAt: null, string.Empty);

    /// <summary><see cref="Conclude"/> for a request that went upstream, with what the response metered.</summary>
    public RequestOutcome ConcludeForwarded(UsageStatus status, int? httpStatus, string? error, DateTimeOffset endedAt,
        MeteredCounts counts, string? servedModel, DateTimeOffset? firstTokenAt, string flags) =>
        Outcome(status, httpStatus, error, endedAt, forwarded: true, counts, servedModel, firstTokenAt, flags);

    private RequestOutcome Outcome(UsageStatus status, int? httpStatus, string? error, DateTimeOffset? endedAt,
        bool forwarded, MeteredCounts counts, string? servedModel, DateTimeOffset? firstTokenAt, string flags) => new()
    {
        UsageId = UsageId,
        AccountId = AccountId,
        KeyId = KeyId,
        Surface = Surface,
        RouteId = RouteId,
        ClusterId = ClusterId,
        StartedAt = StartedAt,
        ReferenceTokenizer = ReferenceTokenizer,
        RequestedModel = RequestedModel,
        Stream = Stream,
        NonTextInput = NonTextInput,
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
