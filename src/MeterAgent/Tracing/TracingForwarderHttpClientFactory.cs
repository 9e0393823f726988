using Yarp.ReverseProxy.Forwarder;

namespace MeterAgent.Tracing;

/// <summary>
/// YARP's upstream client with tracing off: it neither adds nor rewrites trace context. By default YARP's handler
/// replaces the client's <c>traceparent</c> with the current activity's, and ASP.NET Core makes an activity for every
/// request even when nobody records it, so the upstream would get a parent span that no backend ever receives. With no
/// propagator the client's own <c>traceparent</c>/<c>tracestate</c> pass as the header allow-list lets them, unchanged,
/// and a request that came without one goes upstream without one: an agent nobody traces is not a hop in the trace.
/// </summary>
internal sealed class TracingForwarderHttpClientFactory : ForwarderHttpClientFactory
{
    protected override void ConfigureHandler(ForwarderHttpClientContext context, SocketsHttpHandler handler)
    {
        base.ConfigureHandler(context, handler);
        handler.ActivityHeadersPropagator = null;
    }
}
