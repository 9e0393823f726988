using MeterAgent.Credits;
using MeterAgent.Ledger.Accounts;
using MeterAgent.Ledger.Availability;
using MeterAgent.Ledger.Credits;
using MeterAgent.Ledger.Outcomes;
using MeterAgent.Ledger.RateLimits;
using MeterAgent.RateLimits;
using MeterAgent.Ledger.Usage;
using MeterAgent.Metering.Requests;
using MeterAgent.Metering.Responses;
using MeterAgent.Metering.Surfaces;
using MeterAgent.Metering.Tokenization;
using MeterAgent.Contracts.Units;
using MeterAgent.Observability;
using MeterAgent.Settlement;
using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Options;
using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.Model;
using MeterAgent.Common;

namespace MeterAgent.Proxy;

/// <summary>
/// The metering step of YARP's proxy pipeline: authenticate, parse, write the usage record ahead, forward with the
/// response tapped, then close the record with what was delivered.
/// </summary>
internal sealed partial class MeteringMiddleware
{
    public const string UsageIdHeader = "x-meteragent-usage-id";

    /// <summary>
    /// Text to count, in characters, up to which the settlement runs on the request's thread (about a thousand tokens:
    /// tens of microseconds of counting); past it, the settlement yields to the thread pool first.
    /// </summary>
    internal const int InlineCountChars = 4096;

    private readonly RequestDelegate _next;
    private readonly IAccountStore _accounts;
    private readonly IStoreAvailability _availability;
    private readonly AuthFailureThrottle _authFailures;
    private readonly IUsageStore _usage;
    private readonly SettlementPipeline _settlement;
    private readonly CreditRedemption _credits;
    private readonly IRateLimiter _rateLimits;
    private readonly SettlementTracker _settlements;
    private readonly MeterAgentMetrics _metrics;
    private readonly IOptionsMonitor<MeterAgentOptions> _options;
    private readonly TimeProvider _clock;
    private readonly ILogger<MeteringMiddleware> _logger;
    private readonly ReferenceTokenizer _tokenizer = ReferenceTokenizer.Instance;
    private readonly string _tokenizerId;

    public MeteringMiddleware(
        RequestDelegate next,
        IAccountStore accounts,
        IUsageStore usage,
        SettlementPipeline settlement,
        CreditRedemption credits,
        IRateLimiter rateLimits,
        SettlementTracker settlements,
        MeterAgentMetrics metrics,
        IOptionsMonitor<MeterAgentOptions> options,
        TimeProvider clock,
        IStoreAvailability availability,
        AuthFailureThrottle authFailures,
        ILogger<MeteringMiddleware> logger)
    {
        _authFailures = authFailures;
        _next = next;
        _availability = availability;
        _accounts = accounts;
        _usage = usage;
        _settlement = settlement;
        _credits = credits;
        _rateLimits = rateLimits;
        _settlements = settlements;
        _metrics = metrics;
        _options = options;
        _clock = clock;
        _logger = logger;
        _tokenizerId = $"{_tokenizer.Name}:sha256:{_tokenizer.RankDataSha256}";
    }

    // Not async: with the key in the cache (the common case) the request's first await is in MeterAsync, so this
    // step costs no state machine of its own.
    public Task InvokeAsync(HttpContext context)
    {
        var arrivedAt = Stopwatch.GetTimestamp();
        var route = context.GetReverseProxyFeature().Route;
        var request = context.Request;
        var surface = RouteMetadata.ResolveSurface(route.Config, request.Path);
        var family = surface == ApiSurface.Unknown ? ApiError.GuessFamily(request) : surface.Family();
        var authenticating = ClientCredentials.AuthenticateAsync(context, _accounts, family, _availability, _authFailures);
        return authenticating.IsCompletedSuccessfully
            ? Authenticated(context, route, surface, family, authenticating.Result, arrivedAt)
            : AuthenticatedAsync(context, route, surface, family, authenticating, arrivedAt);
    }

    private async Task AuthenticatedAsync(
        HttpContext context, RouteModel route, ApiSurface surface, ApiFamily family, ValueTask<ApiKeyInfo?> authenticating, long arrivedAt) =>
        await Authenticated(context, route, surface, family, await authenticating, arrivedAt);

    private Task Authenticated(HttpContext context, RouteModel route, ApiSurface surface, ApiFamily family, ApiKeyInfo? key, long arrivedAt)
    {
        if (key is null)
        {
            // Refused before any usage record exists: counted here, not by settlement (401; 429 for a throttled address; 503 in an outage).
            _metrics.Refused(MetricLabels.Surface(surface.Name()), context.Response.StatusCode);
            return Task.CompletedTask;
        }

        if (surface == ApiSurface.Unknown)
        {
            if (RouteMetadata.AllowsUnmetered(route.Config))
            {
                return _next(context);
            }

            _metrics.Refused(MetricLabels.Unknown, StatusCodes.Status404NotFound);
            return ApiError.WriteAsync(context, family, StatusCodes.Status404NotFound, ApiErrorKind.NotFound,
                $"'{context.Request.Path}' is not a metered API route.");
        }

        return MeterAsync(context, route, surface, key, arrivedAt);
    }

    /// <remarks>
    /// One state machine for the whole request (its metering and its failure handling): a separate wrapper for the
    /// try/catch would cost another per request.
    /// </remarks>
    private async Task MeterAsync(HttpContext context, RouteModel route, ApiSurface surface, ApiKeyInfo key, long arrivedAt)
    {
        var family = surface.Family();
        var exchange = new MeteringFeature(UsageIds.Next(), key.AccountId, key.KeyId, surface.Name(), _clock.GetUtcNow())
        {
            RouteId = route.Config.RouteId,
            ClusterId = route.Cluster?.ClusterId,
            ReferenceTokenizer = _tokenizerId,
            ArrivedAt = arrivedAt,
            Drain = context.Features.Get<Shutdown.DrainTicket>(),
        };
        context.Features.Set(exchange);

        try
        {
            var request = context.Request;
            var options = _options.CurrentValue;
            if (!HttpMethods.IsPost(request.Method))
            {
                await RejectAsync(context, exchange, family, StatusCodes.Status405MethodNotAllowed, ApiErrorKind.InvalidRequest,
                    $"{request.Method} is not supported on {request.Path}; use POST.");
                return;
            }

            if (!IsJson(request.ContentType))
            {
                await RejectAsync(context, exchange, family, StatusCodes.Status415UnsupportedMediaType, ApiErrorKind.UnsupportedMediaType,
                    "Content-Type must be application/json.");
                return;
            }

            using var body = await RequestBody.ReadAsync(request, options.MaxRequestBodyBytes, context.RequestAborted);
            if (body is null)
            {
                await RejectAsync(context, exchange, family, StatusCodes.Status413PayloadTooLarge, ApiErrorKind.TooLarge,
                    $"Request body is larger than {options.MaxRequestBodyBytes} bytes.");
                return;
            }

            // Short input text is counted as it is parsed (ParsedRequest.InputTokensCounted): no string for it, no later pass.
            var parsed = RequestParser.Parse(surface, body.Span, _tokenizer);
            if (parsed.Request is not { } parsedRequest)
            {
                await RejectAsync(context, exchange, family, StatusCodes.Status400BadRequest, ApiErrorKind.InvalidRequest,
                    parsed.Error ?? "Invalid request body.", parsed.ErrorParam);
                return;
            }

            exchange.MaxOutputTokens = parsedRequest.MaxOutputTokens;
            // The reservation and a token limit need the reference input count up front; without either, what the parse
            // did not count (text past its first 1,024 characters) is counted after the response, off the path to the first token.
            exchange.InputCountedAhead = _credits.Enabled || _rateLimits.MayLimitTokens(exchange.AccountId, exchange.KeyId);
            exchange.Open(parsedRequest.Model, parsedRequest.Stream, parsedRequest.HasNonTextInput,
                exchange.InputCountedAhead ? parsedRequest.InputTokensCounted + _tokenizer.CountTokens(parsedRequest.InputSegments) : 0);

            // The shared store is known to be unreachable: under fail_closed nothing new is admitted; under fail_open the
            // request goes on without rate limits (they live in Redis) and the ledger grants its reservation from this
            // replica's bounded lease (docs/distributed.md, "Redis unavailable").
            var failOpen = _availability.Policy == OutagePolicy.FailOpen;
            if (!_availability.IsAvailable && !failOpen)
            {
                await RefuseForOutageAsync(context, exchange, family);
                return;
            }

            // Rate limits charge one request and the same estimate the reservation takes (input + max output; embeddings
            // write no output) before anything is written or forwarded; the charge is corrected to the actual at settle.
            var estimate = exchange.ReferenceInput
                + (surface == ApiSurface.OpenAIEmbeddings ? 0 : _credits.MaxOutputEstimate(parsedRequest.MaxOutputTokens));
            RateLimitDecision limits;
            try
            {
                limits = !_availability.IsAvailable
                    ? RateLimitDecision.Unlimited
                    : await AcquireRateLimitsAsync(exchange.AccountId, exchange.KeyId, estimate, mayLimitTokens: exchange.InputCountedAhead);
            }
            catch (Exception ex) when (_availability.IsOutage(ex))
            {
                _availability.Report(ex);
                if (!failOpen)
                {
                    await RefuseForOutageAsync(context, exchange, family);
                    return;
                }

                // Nothing was charged (or the charge is lost with Redis): admitted without a limit, no correction owed.
                limits = RateLimitDecision.Unlimited;
            }

            if (limits.Limited)
            {
                exchange.RateLimit = limits;
                context.Response.OnStarting(RateLimitHeaders.WriteOnStarting, context);
            }

            if (!limits.Allowed)
            {
                await RejectAsync(context, exchange, family, StatusCodes.Status429TooManyRequests, ApiErrorKind.RateLimited,
                    RateLimitMessage(limits, estimate));
                return;
            }

            // OpenAI streams report usage only when asked; ask on the client's behalf and hide the extra chunk from it.
            var askForUsage = parsedRequest.Stream
                && !parsedRequest.ClientRequestedStreamUsage
                && surface is ApiSurface.OpenAIChatCompletions or ApiSurface.OpenAICompletions;
            body.ReplayInto(request, askForUsage ? StreamUsageRequest.AddIncludeUsage(body.Span) : null);

            // The tap must read plain bytes: ask the upstream for an uncompressed response.
            request.Headers.AcceptEncoding = default;

            // Written ahead: once the request can reach the upstream, the record is already durable. The reservation is
            // queued beside it, so both usually share one group commit. Neither is cancelled by a client that leaves: a
            // write abandoned half-way would leave an open record or a pending reservation with nobody to end them.
            var opening = _usage.OpenAsync(exchange.OpenRecord(), CancellationToken.None);
            if (_credits.Enabled)
            {
                ReserveOutcome outcome;
                try
                {
                    outcome = await _credits.ReserveAsync(
                        exchange.UsageId, exchange.AccountId, exchange.RequestedModel, exchange.ReferenceInput, parsedRequest.MaxOutputTokens);
                }
                catch (Exception ex) when (_availability.IsOutage(ex))
                {
                    // Found unreachable by this call: the request has not been forwarded, so it is refused like the others.
                    _availability.Report(ex);
                    await opening;
                    await RefuseForOutageAsync(context, exchange, family);
                    return;
                }

                exchange.Reservation = outcome.Granted ? outcome.Reservation : null;
                await opening;
                if (exchange.Reservation is null)
                {
                    await RejectAsync(context, exchange, family, StatusCodes.Status402PaymentRequired, ApiErrorKind.InsufficientQuota,
                        outcome.RefusalReason == RefusalReasons.OverageLimitExceeded
                            ? "Insufficient credits for this request, and serving it would take the account's overage (posted, and held by its requests in flight) past its allow_up_to limit (overage_limit_exceeded)."
                            : "Insufficient credits for this request under the account's overage policy (insufficient_quota).");
                    return;
                }
            }
            else
            {
                await opening;
            }

            // Gone while the record was written: nothing is forwarded, and the catch below ends the record.
            context.RequestAborted.ThrowIfCancellationRequested();
            context.Response.Headers[UsageIdHeader] = exchange.UsageId;

            var clientBody = context.Response.Body;
            var tap = new MeteringResponseStream(context.Response, clientBody, surface, askForUsage, _clock);
            context.Response.Body = tap;
            if (_metrics.Enabled)
            {
                // When the headers leave for the client, for the proxy's added latency (a static callback: no closure).
                context.Response.OnStarting(static state =>
                {
                    ((MeteringFeature)state).ResponseStartedAt = Stopwatch.GetTimestamp();
                    return Task.CompletedTask;
                }, exchange);
            }

            try
            {
                await _next(context);
            }
            finally
            {
                context.Response.Body = clientBody;
            }

            await SettleAsync(context, exchange, parsedRequest, tap, family);
        }
        catch (Exception exception) when (!exchange.Ended)
        {
            await FailedAsync(context, exchange, family, exception);
        }
        catch (Exception exception) when (exchange.Ended && context.RequestAborted.IsCancellationRequested)
        {
            // The record is already ended; only the answer could not reach a client that has gone.
            LogClientGone(exchange.UsageId, exception.GetType().Name);
        }
    }

    /// <summary>
    /// A request that failed before its end was decided. A client that reset its connection (mid-body, or while the
    /// record was being written) ends here too: its record closes as client_aborted and its reservation is released,
    /// since nothing was served.
    /// </summary>
    private async Task FailedAsync(HttpContext context, MeteringFeature exchange, ApiFamily family, Exception exception)
    {
        var usageId = exchange.UsageId;
        var clientGone = context.RequestAborted.IsCancellationRequested
            || exception is IOException or OperationCanceledException or BadHttpRequestException;
        if (clientGone)
        {
            LogClientGone(usageId, exception.GetType().Name);
        }
        else
        {
            // Never a bare 500: the client gets the API's own shape, and the record says the agent failed.
            LogAgentFailure(usageId, exception);
        }

        try
        {
            await (clientGone
                ? EndUnservedAsync(exchange, UsageStatus.ClientAborted, null, "client disconnected before the request was forwarded")
                : EndUnservedAsync(exchange, UsageStatus.Failed, StatusCodes.Status500InternalServerError, $"agent error: {exception.GetType().Name}"));
        }
        catch (Exception storeFailure)
        {
            LogAgentFailure(usageId, storeFailure);
        }

        if (!clientGone && !context.Response.HasStarted)
        {
            await ApiError.WriteAsync(context, family, StatusCodes.Status500InternalServerError, ApiErrorKind.Internal,
                "MeterAgent failed while handling the request; it was not metered as served.");
        }
    }

    /// <summary>
    /// Charges the rate limits. A token limit holds each request's estimate until its settlement corrects it to what it
    /// used, and a client that sends one request after another has its last response before that correction: a refusal
    /// while the account's requests were settling here is asked once more after they have (a refusal charges nothing).
    /// </summary>
    private async ValueTask<RateLimitDecision> AcquireRateLimitsAsync(string accountId, string keyId, long estimate, bool mayLimitTokens)
    {
        var settling = mayLimitTokens ? _settlements.SettlingFor(accountId) : null;
        var limits = await _rateLimits.AcquireAsync(accountId, keyId, estimate, CancellationToken.None);
        if (!limits.Allowed && limits.RetryAfter is not null && settling is not null)
        {
            await _settlements.SettledAsync(accountId, settling, SettlementTracker.RefusalWait);
            limits = await _rateLimits.AcquireAsync(accountId, keyId, estimate, CancellationToken.None);
        }

        return limits;
    }

    private async Task SettleAsync(
        HttpContext context, MeteringFeature exchange, ParsedRequest input, MeteringResponseStream tap, ApiFamily family)
    {
        var error = context.GetForwarderErrorFeature();
        var clientSide = error is not null && OutcomeClassifier.IsClientSide(error.Error);

        // YARP aborts the client's connection when the upstream breaks off, which also cancels RequestAborted: an
        // upstream error decides first, so the provider's failure is never recorded as the client leaving.
        var clientGone = clientSide || (error is null && context.RequestAborted.IsCancellationRequested);
        var upstreamFailure = clientSide ? null : error;

        var (metered, goneWhileFinishing) = await tap.CompleteAsync(!clientGone && upstreamFailure is null, context.RequestAborted);
        clientGone |= goneWhileFinishing;

        // A response the upstream broke off after it had started was aborted (or its stream reset) by YARP, so that the
        // client sees it cut: it is not this middleware's to end. An error answer written below is.
        var cutByProxy = upstreamFailure is not null && context.Response.HasStarted;
        if (!clientGone && upstreamFailure is not null)
        {
            LogUpstreamFailure(exchange.UsageId, upstreamFailure.Error, upstreamFailure.Exception?.GetType().Name);
            if (!context.Response.HasStarted)
            {
                var timedOut = upstreamFailure.Error == ForwarderError.RequestTimedOut;
                await ApiError.WriteAsync(context, family,
                    timedOut ? StatusCodes.Status504GatewayTimeout : StatusCodes.Status502BadGateway,
                    timedOut ? ApiErrorKind.UpstreamTimeout : ApiErrorKind.UpstreamUnavailable,
                    timedOut ? "The upstream model server did not answer in time." : "The upstream model server could not be reached.");
            }
        }

        var (status, reason) = OutcomeClassifier.Classify(
            upstreamFailure?.Error, clientGone, context.Response.StatusCode, metered.Complete, metered.Malformed, metered.UpstreamError);
        var httpStatus = context.Response.StatusCode;

        // The response is ended here (EndResponseAsync); counting, redemption and the durable close follow on this
        // thread up to the close's wait, and go on from there without holding the client or its connection.
        var firstTokenAt = tap.FirstTokenAt ?? (exchange.Stream || status != UsageStatus.Completed ? null : tap.FirstByteAt);
        exchange.Ended = true;
        var settling = _settlements.Begin(exchange.AccountId);
        if (!clientGone && !cutByProxy)
        {
            await EndResponseAsync(context, exchange.UsageId);
        }

        exchange.Settlement = FinishAsync(exchange, input, metered, status, httpStatus, reason, firstTokenAt, settling);
    }

    /// <summary>
    /// Ends the response to the client now (a chunked stream's last chunk, the final flush), so the settlement that
    /// follows on this thread does not hold the client's response back. Whatever happens here, the settlement runs.
    /// </summary>
    private async ValueTask EndResponseAsync(HttpContext context, string usageId)
    {
        try
        {
            await context.Response.CompleteAsync();
        }
        catch (Exception ex)
        {
            LogClientGone(usageId, ex.GetType().Name);
        }
    }

    /// <summary>
    /// Counts what was delivered, notes what metering noticed, and settles the request. It runs on the request's thread
    /// once the response has ended, up to the durable close's wait, with no hand-off to another thread: tens of
    /// microseconds, which the connection's next request waits for. Text longer than <see cref="InlineCountChars"/> to
    /// count goes to the thread pool first, so a long answer's count does not hold that next request. Its end is
    /// reported to the tracker the host's stop waits on (begun by its caller): by the settlement, or here if it fails
    /// before it. Not async on the common path: the settlement's own state machine is the only one.
    /// </summary>
    private Task<SettledRequest> FinishAsync(
        MeteringFeature exchange, ParsedRequest input, MeteredResponse metered,
        UsageStatus status, int httpStatus, string? reason, DateTimeOffset? firstTokenAt, SettlementTracker.Settling settling)
    {
        return TextLength(metered.OutputSegments) + (exchange.InputCountedAhead ? 0 : TextLength(input.InputSegments)) > InlineCountChars
            ? FinishLaterAsync(exchange, input, metered, status, httpStatus, reason, firstTokenAt, settling)
            : FinishNow(exchange, input, metered, status, httpStatus, reason, firstTokenAt, settling);
    }

    private async Task<SettledRequest> FinishLaterAsync(
        MeteringFeature exchange, ParsedRequest input, MeteredResponse metered,
        UsageStatus status, int httpStatus, string? reason, DateTimeOffset? firstTokenAt, SettlementTracker.Settling settling)
    {
        await Task.Yield();
        return await FinishNow(exchange, input, metered, status, httpStatus, reason, firstTokenAt, settling);
    }

    /// <summary>Counts, then settles; a failure to count ends the tracker's entry here, since no settlement will.</summary>
    private Task<SettledRequest> FinishNow(
        MeteringFeature exchange, ParsedRequest input, MeteredResponse metered,
        UsageStatus status, int httpStatus, string? reason, DateTimeOffset? firstTokenAt, SettlementTracker.Settling settling)
    {
        RequestOutcome outcome;
        try
        {
            outcome = Count(exchange, input, metered, status, httpStatus, reason, firstTokenAt);
        }
        catch (Exception ex)
        {
            _settlements.End(exchange.UsageId, settling, ex);
            return Task.FromException<SettledRequest>(ex);
        }

        return EndAsync(exchange, outcome, settling);
    }

    /// <summary>Characters of text in the segments: what the settlement has to count of them.</summary>
    private static long TextLength(IReadOnlyList<string> segments)
    {
        var length = 0L;
        for (var i = 0; i < segments.Count; i++)
        {
            length += segments[i].Length;
        }

        return length;
    }

    /// <summary>The request's outcome with what it delivered counted, and the flags metering noticed.</summary>
    private RequestOutcome Count(
        MeteringFeature exchange, ParsedRequest input, MeteredResponse metered,
        UsageStatus status, int httpStatus, string? reason, DateTimeOffset? firstTokenAt)
    {
        var referenceInput = exchange.InputCountedAhead
            ? exchange.ReferenceInput
            : input.InputTokensCounted + _tokenizer.CountTokens(input.InputSegments);
        var referenceOutput = metered.OutputTokensCounted + _tokenizer.CountTokens(metered.OutputSegments);
        List<string>? flags = null;
        if (metered.Truncated)
        {
            (flags ??= []).Add(UsageFlags.Truncated);
            if (!exchange.Stream)
            {
                // A JSON body past the tap's bound was forwarded but its text not kept: it must not cost less than a
                // smaller one, so its output counts at least one token per 4 bytes delivered (a body is mostly text).
                referenceOutput = Math.Max(referenceOutput, (metered.DeliveredBytes + 3) / 4);
            }
        }

        if (exchange.ProxyOverhead is { } overhead)
        {
            _metrics.ProxyOverhead.Record(overhead.TotalSeconds, new KeyValuePair<string, object?>("surface", exchange.Surface));
        }

        var native = metered.NativeUsage;
        var counts = new MeteredCounts(
            referenceInput, referenceOutput,
            native?.InputTokens, native?.CachedInputTokens, native?.CacheWriteTokens, native?.OutputTokens, native?.ReasoningTokens);
        if (native is not null)
        {
            if (!metered.NativeUsageFinal)
            {
                (flags ??= []).Add(UsageFlags.NativeNotFinal);
            }

            if (metered.NativeUsageSuspect)
            {
                (flags ??= []).Add(UsageFlags.NativeSuspect);
            }

            if (counts.NativeBelowReference)
            {
                (flags ??= []).Add(UsageFlags.NativeBelowReference);
            }
        }

        return exchange.ConcludeForwarded(status, httpStatus, reason, _clock.GetUtcNow(),
            counts, metered.ServedModel, firstTokenAt, flags is null ? string.Empty : UsageFlags.Join(flags));
    }

    private async Task RejectAsync(HttpContext context, MeteringFeature exchange, ApiFamily family, int status, ApiErrorKind kind, string message, string? param = null)
    {
        await EndUnservedAsync(exchange, UsageStatus.Rejected, status, message);
        context.Response.Headers[UsageIdHeader] = exchange.UsageId;
        await ApiError.WriteAsync(context, family, status, kind, message, param);
    }

    /// <summary>
    /// 503 in the API's shape with retry-after, and a rejected record (kept locally; it holds no credits): the
    /// <c>fail_closed</c> policy (docs/distributed.md, "Redis unavailable").
    /// </summary>
    private Task RefuseForOutageAsync(HttpContext context, MeteringFeature exchange, ApiFamily family)
    {
        ApiError.SetRetryAfter(context.Response, _availability.RetryAfter);
        return RejectAsync(context, exchange, family, StatusCodes.Status503ServiceUnavailable, ApiErrorKind.ServiceUnavailable,
            "MeterAgent cannot meter requests now: its shared store is unavailable. Retry later.");
    }

    /// <summary>Settles a request that never reached the upstream: nothing was served, so any reservation is released.</summary>
    private Task<SettledRequest> EndUnservedAsync(MeteringFeature exchange, UsageStatus status, int? httpStatus, string error) =>
        EndAsync(exchange, exchange.Conclude(status, httpStatus, error, _clock.GetUtcNow()));

    /// <summary>
    /// The one place a request's outcome leaves the proxy: to settlement (durable, then every observer), which ends
    /// <paramref name="settling"/> when given.
    /// </summary>
    private Task<SettledRequest> EndAsync(MeteringFeature exchange, RequestOutcome outcome, SettlementTracker.Settling? settling = null)
    {
        exchange.Ended = true;
        if (exchange.Drain is { CutReason: { } cut } && outcome.Status is UsageStatus.ClientAborted or UsageStatus.UpstreamFailed)
        {
            // The stop's drain time ran out and the agent cut the request: neither the client nor the upstream ended it.
            outcome = outcome with { Status = UsageStatus.Interrupted, Error = cut };
        }

        var settled = _settlement.SettleAsync(outcome, exchange.TakeOpenRecord(), settling);
        exchange.Settlement ??= settled;
        return settled;
    }

    private static string RateLimitMessage(RateLimitDecision limits, long estimate)
    {
        var limit = limits.Refusal?.StartsWith("tokens", StringComparison.Ordinal) == true ? limits.Tokens?.Limit : limits.Requests?.Limit;
        return limits.RetryAfter is { } retryAfter
            ? string.Create(CultureInfo.InvariantCulture,
                $"Rate limit reached: {limits.Refusal} ({limit}). Try again in {RateLimitHeaders.Duration(retryAfter)}.")
            : string.Create(CultureInfo.InvariantCulture,
                $"This request can never fit the {limits.Refusal} ({limit}): its token estimate is {estimate} (input tokens plus max output tokens, or the default max output when none is set). Set a smaller max_tokens.");
    }

    private static bool IsJson(string? contentType) =>
        contentType is not null
        && (contentType.StartsWith("application/json", StringComparison.OrdinalIgnoreCase)
            || (contentType.StartsWith("application/", StringComparison.OrdinalIgnoreCase)
                && contentType.Contains("+json", StringComparison.OrdinalIgnoreCase)));

    [LoggerMessage(Level = LogLevel.Error, Message = "Usage {UsageId}: the agent failed while handling the request")]
    private partial void LogAgentFailure(string usageId, Exception exception);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Usage {UsageId}: the client left before the request was forwarded ({ExceptionType})")]
    private partial void LogClientGone(string usageId, string exceptionType);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Usage {UsageId}: upstream failed ({Error}, {ExceptionType})")]
    private partial void LogUpstreamFailure(string usageId, ForwarderError error, string? exceptionType);
}
