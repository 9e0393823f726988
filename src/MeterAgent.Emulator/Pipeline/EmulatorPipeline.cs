using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.Options;

namespace MeterAgent.Emulator.Pipeline;

/// <summary>
/// What every model route shares: authentication, per-request overrides and faults, parsing, latency,
/// and the stream engine that paces content and injects mid-stream faults.
/// </summary>
internal sealed class EmulatorPipeline(IOptions<EmulatorOptions> options, EmulatorStats stats)
{
    public const string TimeToFirstTokenHeader = "x-emulator-ttft-ms";
    public const string TokensPerSecondHeader = "x-emulator-tokens-per-second";
    public const string TokensPerEventHeader = "x-emulator-tokens-per-event";
    public const string LatencyHeader = "x-emulator-latency-ms";

    // How long the "disconnect" fault stalls before it cuts (CutShortAsync): long enough for a proxy in between, cold or
    // on a loaded machine, to have passed the sent half on to its client.
    private static readonly TimeSpan DisconnectStall = TimeSpan.FromSeconds(1);

    public async Task HandleAsync(HttpContext context, ApiSurface surface)
    {
        var settings = options.Value;
        if (!IsAuthorized(context.Request, surface.Flavor, settings.RequiredApiKey))
        {
            stats.OnUnauthorized();
            await ErrorWriter.WriteAsync(context, surface.Flavor, StatusCodes.Status401Unauthorized, "Invalid API key provided.");
            return;
        }

        stats.OnReceived();
        var aborted = context.RequestAborted;
        try
        {
            await RunAsync(context, surface, settings, aborted);
        }
        catch (Exception) when (aborted.IsCancellationRequested)
        {
            stats.OnCancelled();
        }
        finally
        {
            stats.OnFinished();
        }
    }

    private async Task RunAsync(HttpContext context, ApiSurface surface, EmulatorOptions settings, CancellationToken aborted)
    {
        var headers = context.Request.Headers;
        string? faultText = headers[FaultPlan.HeaderName];
        if (!FaultPlan.TryParse(faultText ?? settings.Fault, out var fault, out var invalidFault))
        {
            await RejectAsync(context, surface, new RequestError($"Unknown {FaultPlan.HeaderName} '{invalidFault}'.", FaultPlan.HeaderName));
            return;
        }

        if (!TryReadTiming(headers, settings, out var timing, out var badHeader))
        {
            await RejectAsync(context, surface, new RequestError($"Invalid {badHeader} header.", badHeader));
            return;
        }

        JsonDocument document;
        try
        {
            document = await JsonDocument.ParseAsync(context.Request.Body, default, aborted);
        }
        catch (JsonException)
        {
            await RejectAsync(context, surface, new RequestError("We could not parse the JSON body of your request."));
            return;
        }

        var request = new EmulatedRequest { Fault = fault };
        using (document)
        {
            var error = document.RootElement.ValueKind == JsonValueKind.Object
                ? surface.Parse(document.RootElement, request)
                : new RequestError("The request body must be a JSON object.");
            if (error is { } invalid)
            {
                await RejectAsync(context, surface, invalid);
                return;
            }
        }

        request.Complete(settings, surface);

        if (timing.Latency > TimeSpan.Zero)
        {
            await Task.Delay(timing.Latency, aborted);
        }

        if (fault.Hang)
        {
            // Only the client (or its timeout) ends this request; the cancellation lands in HandleAsync.
            await Task.Delay(Timeout.Infinite, aborted);
        }

        if (fault.IsError)
        {
            stats.OnFaultInjected();
            await ErrorWriter.WriteAsync(context, surface.Flavor, fault.ErrorStatus, $"Emulated upstream failure ({fault.ErrorStatus}).");
            return;
        }

        var complete = request.Stream
            ? await StreamAsync(context, surface, request, timing, aborted)
            : await WriteWholeAsync(context, surface, request, aborted);
        if (complete)
        {
            stats.OnCompleted(request.Usage.PromptTokens, request.Usage.CompletionTokens);
        }
        else
        {
            stats.OnFaultInjected();
        }
    }

    private async Task<bool> WriteWholeAsync(HttpContext context, ApiSurface surface, EmulatedRequest request, CancellationToken aborted)
    {
        using var buffer = new PooledBufferWriter();
        using (var json = new Utf8JsonWriter(buffer, EmulatorJson.WriterOptions))
        {
            surface.WriteResponse(json, request);
        }

        var body = buffer.WrittenMemory;
        var response = context.Response;
        response.ContentType = "application/json";
        if (request.Fault.Disconnect)
        {
            // Announce the full length, send half, then cut: the client sees a truncated transfer, not a short body.
            response.ContentLength = body.Length;
            await response.BodyWriter.WriteAsync(body[..(body.Length / 2)], aborted);
            throw await CutShortAsync(aborted);
        }

        if (request.Fault.Malformed)
        {
            body = body[..(body.Length / 2)];
        }

        response.ContentLength = body.Length;
        await response.BodyWriter.WriteAsync(body, aborted);
        return !request.Fault.Malformed;
    }

    private async Task<bool> StreamAsync(HttpContext context, ApiSurface surface, EmulatedRequest request, StreamTiming timing, CancellationToken aborted)
    {
        stats.OnStreamStarted();
        var response = context.Response;
        response.ContentType = "text/event-stream; charset=utf-8";
        response.Headers.CacheControl = "no-cache";
        using var sse = new SseWriter(response.BodyWriter);
        surface.WriteStreamStart(sse, request);
        await sse.FlushAsync(aborted);

        var pacer = new Pacer(timing.TimeToFirstToken, timing.TokensPerSecond);
        await pacer.BeforeFirstAsync(aborted);

        var output = request.Output;
        var total = output.TokenCount;
        var events = (total + timing.TokensPerEvent - 1) / timing.TokensPerEvent;
        var faultAt = Math.Max(1, events / 2);
        var fault = request.Fault;
        var sent = 0;
        for (var e = 0; ; e++)
        {
            if (e == faultAt && fault.Malformed)
            {
                sse.WriteMalformedEvent(surface.DeltaEventName);
                await sse.FlushAsync(aborted);
            }

            if (e == faultAt && fault.Disconnect)
            {
                throw await CutShortAsync(aborted);
            }

            if (e >= events)
            {
                break;
            }

            await pacer.BeforeTokensAsync(sent, aborted);
            var count = Math.Min(timing.TokensPerEvent, total - sent);
            surface.WriteStreamDelta(sse, request, output.Slice(sent, count));
            sent += count;
            await sse.FlushAsync(aborted);
        }

        surface.WriteStreamEnd(sse, request);
        await sse.FlushAsync(aborted);
        return !fault.Malformed;
    }

    /// <summary>
    /// The "disconnect" fault: ends the connection after what was sent so far, without the end of the response (the
    /// last chunk, or the rest of the announced length). The exception it returns is thrown out of the request, which
    /// makes Kestrel close the connection once the bytes already written have gone out: aborting it instead throws away
    /// whatever Kestrel's send loop has not sent yet, which under load was sometimes all of it, and a proxy then answered
    /// a clean 502 instead of passing on a broken stream. The stall before it (<see cref="DisconnectStall"/>) gives a
    /// proxy in between time to pass the sent part on before it sees the cut: its own abort (YARP's, on an upstream
    /// error) drops what it has not sent yet, headers included. At 200 ms a cold agent under CI's load sometimes had not.
    /// </summary>
    private async Task<Exception> CutShortAsync(CancellationToken aborted)
    {
        await Task.Delay(DisconnectStall, aborted);
        stats.OnFaultInjected();
        return new EmulatedDisconnectException();
    }

    private async Task RejectAsync(HttpContext context, ApiSurface surface, RequestError error)
    {
        stats.OnRejected();
        await ErrorWriter.WriteAsync(context, surface.Flavor, StatusCodes.Status400BadRequest, error.Message, error.Param);
    }

    private static bool IsAuthorized(HttpRequest request, ApiFlavor flavor, string? requiredKey)
    {
        if (string.IsNullOrEmpty(requiredKey))
        {
            return true;
        }

        string? authorization = request.Headers.Authorization;
        var bearerMatches = authorization is not null
            && authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase)
            && authorization.AsSpan(7).Trim().SequenceEqual(requiredKey);
        if (flavor == ApiFlavor.OpenAI)
        {
            return bearerMatches;
        }

        string? apiKey = request.Headers["x-api-key"];
        return bearerMatches || apiKey == requiredKey;
    }

    private static bool TryReadTiming(IHeaderDictionary headers, EmulatorOptions settings, out StreamTiming timing, out string? badHeader)
    {
        timing = new StreamTiming(settings.Latency, settings.TimeToFirstToken, settings.TokensPerSecond, settings.TokensPerEvent);
        badHeader = null;
        var culture = CultureInfo.InvariantCulture;
        if (headers[LatencyHeader] is { Count: > 0 } latency)
        {
            if (!int.TryParse(latency, culture, out var ms) || ms < 0)
            {
                badHeader = LatencyHeader;
                return false;
            }

            timing = timing with { Latency = TimeSpan.FromMilliseconds(ms) };
        }

        if (headers[TimeToFirstTokenHeader] is { Count: > 0 } ttft)
        {
            if (!int.TryParse(ttft, culture, out var ms) || ms < 0)
            {
                badHeader = TimeToFirstTokenHeader;
                return false;
            }

            timing = timing with { TimeToFirstToken = TimeSpan.FromMilliseconds(ms) };
        }

        if (headers[TokensPerSecondHeader] is { Count: > 0 } tps)
        {
            if (!double.TryParse(tps, culture, out var rate) || rate < 0 || !double.IsFinite(rate))
            {
                badHeader = TokensPerSecondHeader;
                return false;
            }

            timing = timing with { TokensPerSecond = rate };
        }

        if (headers[TokensPerEventHeader] is { Count: > 0 } tpe)
        {
            if (!int.TryParse(tpe, culture, out var perEvent) || perEvent < 1)
            {
                badHeader = TokensPerEventHeader;
                return false;
            }

            timing = timing with { TokensPerEvent = perEvent };
        }

        return true;
    }
}
