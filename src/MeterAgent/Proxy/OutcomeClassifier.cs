using MeterAgent.Ledger.Usage;
using Yarp.ReverseProxy.Forwarder;

namespace MeterAgent.Proxy;

/// <summary>How a forwarded request ended, from what YARP, the client connection and the tap saw: the one place a status is decided.</summary>
internal static class OutcomeClassifier
{
    /// <summary>The errors YARP reports when the client, not the upstream, broke the exchange.</summary>
    public static bool IsClientSide(ForwarderError error) => error is ForwarderError.ResponseBodyClient or ForwarderError.RequestBodyClient
        or ForwarderError.RequestCanceled or ForwarderError.RequestBodyCanceled or ForwarderError.ResponseBodyCanceled;

    /// <param name="upstreamFailure">YARP's error on the upstream side (client-side errors are <paramref name="clientGone"/>); null when none.</param>
    /// <param name="clientGone">The client left before the response ended.</param>
    /// <param name="responseStatus">The status the client was sent.</param>
    /// <param name="complete">The tap saw the response's terminal event (or a whole body).</param>
    /// <param name="malformed">The tap could not parse part of the response.</param>
    /// <param name="upstreamError">The error type or code the upstream's body named, if any.</param>
    public static (UsageStatus Status, string? Error) Classify(
        ForwarderError? upstreamFailure, bool clientGone, int responseStatus, bool complete, bool malformed, string? upstreamError)
    {
        if (clientGone)
        {
            return (UsageStatus.ClientAborted, "client disconnected before the response ended");
        }

        if (upstreamFailure is { } failure)
        {
            return (UsageStatus.UpstreamFailed, failure == ForwarderError.RequestTimedOut ? "upstream timed out" : $"upstream failed: {failure}");
        }

        if (responseStatus >= 400)
        {
            return (UsageStatus.UpstreamError, upstreamError is not null
                ? $"upstream returned {responseStatus}: {upstreamError}"
                : $"upstream returned {responseStatus}");
        }

        if (!complete)
        {
            // The upstream closed cleanly but without its terminal event: the client saw a truncated answer.
            return (UsageStatus.UpstreamFailed, malformed ? "upstream response was malformed" : "upstream response ended before its terminal event");
        }

        return (UsageStatus.Completed, malformed ? "upstream sent a malformed event; metered what could be read" : null);
    }
}
