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
    // The request's write-ahead record, from its arrival: who, where and when, then what the body said (Open). It is the
    // one place those fields live (the properties below read it), and the close fills it (TakeOpenRecord) once the store
    // has read it open, so a request carries one copy of them until its outcome.
    private readonly UsageRecord _record;

    // 1 from the record's hand-over to the store as opened until the close takes it.
    private int _recordOpen;

    /// <param name="usageId">The request's usage id.</param>
    /// <param name="accountId">The account of the key it presented.</param>
    /// <param name="keyId">That key's id.</param>
    /// <param name="surface">Surface name, e.g. openai.chat_completions.</param>
    /// <param name="startedAt">When it arrived.</param>
    public MeteringFeature(string usageId, string accountId, string keyId, string surface, DateTimeOffset startedAt) =>
        _record = new UsageRecord { Id = usageId, AccountId = accountId, KeyId = keyId, Surface = surface, StartedAt = startedAt, Status = UsageStatus.Open };

    public string UsageId => _record.Id;

    public string AccountId => _record.AccountId;

    public string KeyId => _record.KeyId;

    public string Surface => _record.Surface;

    public string? RouteId { get => _record.RouteId; init => _record.RouteId = value; }

    public string? ClusterId { get => _record.ClusterId; init => _record.ClusterId = value; }

    public DateTimeOffset StartedAt => _record.StartedAt;

    public string? ReferenceTokenizer { get => _record.ReferenceTokenizer; init => _record.ReferenceTokenizer = value; }

    /// <summary>The model the body asked for, once it is parsed (<see cref="Open"/>); null before, or when it named none.</summary>
    public string? RequestedModel => _record.RequestedModel;

    /// <summary>The body asked for a stream.</summary>
    public bool Stream => _record.Stream;

    /// <summary>The body carried input other than text (images, audio, files).</summary>
    public bool NonTextInput => _record.NonTextInput;

    /// <summary>
    /// The reference input count when it was counted ahead (else 0): the only count known before forwarding. Its own
    /// field, not the record's, which the close fills with the count of all the input.
    /// </summary>
    public long ReferenceInput { get; private set; }

    /// <summary>The counts known before forwarding (<see cref="ReferenceInput"/>, nothing else), as counts.</summary>
    public MeteredCounts Counts => new() { ReferenceInput = ReferenceInput };

    /// <summary>
    /// What is known of the request so far, as an outcome still <see cref="UsageStatus.Open"/>, for readers that want
    /// that shape (a span ended before settlement). The request's own path never builds it: its write-ahead record
    /// is the feature's own (<see cref="OpenRecord"/>) and its end is one new outcome (<see cref="Conclude"/>).
    /// </summary>
    public RequestOutcome Current => Outcome(UsageStatus.Open, null, null, null, forwarded: false, Counts, null, null, string.Empty);

    /// <summary>What the parsed body said. Until it is called the request is known by who sent it and where.</summary>
    public void Open(string? requestedModel, bool stream, bool nonTextInput, long referenceInput)
    {
        _record.RequestedModel = requestedModel;
        _record.Stream = stream;
        _record.NonTextInput = nonTextInput;
        _record.ReferenceInputTokens = referenceInput;
        ReferenceInput = referenceInput;
    }

    /// <summary>
    /// The write-ahead record, for the store to open: what is known now, status open. The same record as
    /// <c>Current.ToRecord()</c>, without the open outcome in between (an allocation on every request). The close fills
    /// it again (<see cref="TakeOpenRecord"/>): the store has read it once it is opened.
    /// </summary>
    public UsageRecord OpenRecord()
    {
        Volatile.Write(ref _recordOpen, 1);
        return _record;
    }

    /// <summary>The write-ahead record, once, for the close to fill; null when none was opened (or it was taken).</summary>
    public UsageRecord? TakeOpenRecord() => Interlocked.Exchange(ref _recordOpen, 0) == 1 ? _record : null;

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
