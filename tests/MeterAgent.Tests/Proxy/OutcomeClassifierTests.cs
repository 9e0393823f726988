using MeterAgent.Ledger.Usage;
using MeterAgent.Proxy;
using Yarp.ReverseProxy.Forwarder;

namespace MeterAgent.Tests.Proxy;

public sealed class OutcomeClassifierTests
{
    [Theory]
    // The client leaving wins over everything the upstream did after: it is charged for what it got.
    [InlineData(null, true, 200, false, false, UsageStatus.ClientAborted, "client disconnected before the response ended")]
    [InlineData(ForwarderError.ResponseBodyDestination, true, 200, false, false, UsageStatus.ClientAborted, "client disconnected before the response ended")]
    [InlineData(ForwarderError.Request, false, 502, false, false, UsageStatus.UpstreamFailed, "upstream failed: Request")]
    [InlineData(ForwarderError.RequestTimedOut, false, 504, false, false, UsageStatus.UpstreamFailed, "upstream timed out")]
    [InlineData(ForwarderError.ResponseBodyDestination, false, 200, false, false, UsageStatus.UpstreamFailed, "upstream failed: ResponseBodyDestination")]
    [InlineData(null, false, 429, true, false, UsageStatus.UpstreamError, "upstream returned 429")]
    [InlineData(null, false, 200, false, false, UsageStatus.UpstreamFailed, "upstream response ended before its terminal event")]
    [InlineData(null, false, 200, false, true, UsageStatus.UpstreamFailed, "upstream response was malformed")]
    [InlineData(null, false, 200, true, true, UsageStatus.Completed, "upstream sent a malformed event; metered what could be read")]
    [InlineData(null, false, 200, true, false, UsageStatus.Completed, null)]
    public void Each_way_a_forwarded_request_can_end_has_one_status(
        ForwarderError? failure, bool clientGone, int status, bool complete, bool malformed, UsageStatus expected, string? reason)
    {
        Assert.Equal((expected, reason), OutcomeClassifier.Classify(failure, clientGone, status, complete, malformed, upstreamError: null));
    }

    [Fact]
    public void An_upstream_error_names_what_the_upstream_said()
    {
        Assert.Equal(
            (UsageStatus.UpstreamError, "upstream returned 400: invalid_request_error"),
            OutcomeClassifier.Classify(null, false, 400, true, false, "invalid_request_error"));
    }

    [Theory]
    [InlineData(ForwarderError.ResponseBodyClient, true)]
    [InlineData(ForwarderError.RequestBodyClient, true)]
    [InlineData(ForwarderError.RequestCanceled, true)]
    [InlineData(ForwarderError.RequestBodyCanceled, true)]
    [InlineData(ForwarderError.ResponseBodyCanceled, true)]
    [InlineData(ForwarderError.Request, false)]
    [InlineData(ForwarderError.RequestTimedOut, false)]
    [InlineData(ForwarderError.ResponseBodyDestination, false)]
    [InlineData(ForwarderError.RequestBodyDestination, false)]
    public void Only_the_client_side_forwarder_errors_count_as_the_client_leaving(ForwarderError error, bool clientSide)
    {
        Assert.Equal(clientSide, OutcomeClassifier.IsClientSide(error));
    }
}
