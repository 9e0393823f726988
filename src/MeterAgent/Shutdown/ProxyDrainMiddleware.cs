using MeterAgent.Common;
using MeterAgent.Observability;
using MeterAgent.Proxy;
using MeterAgent.Metering.Surfaces;

namespace MeterAgent.Shutdown;

/// <summary>
/// First step of the proxy pipeline: admits a request while the agent runs and tracks it until it ends, so a stop can
/// wait for it and, past the drain time, cut it. Refused during a stop: 503 in the API's shape, before any usage
/// record exists (as an unknown key is), with Connection: close so the client's next attempt opens a new connection,
/// which another replica takes.
/// </summary>
internal sealed class ProxyDrainMiddleware(RequestDelegate next, ProxyDrain drain, MeterAgentMetrics metrics)
{
    public async Task InvokeAsync(HttpContext context)
    {
        if (drain.Enter(context) is not { } ticket)
        {
            var route = context.GetReverseProxyFeature().Route;
            var surface = RouteMetadata.ResolveSurface(route.Config, context.Request.Path);
            metrics.Refused(MetricLabels.Surface(surface.Name()), StatusCodes.Status503ServiceUnavailable);
            context.Response.Headers.Connection = "close";
            context.Response.Headers.RetryAfter = "1";
            await ApiError.WriteAsync(context, ApiError.GuessFamily(context.Request), StatusCodes.Status503ServiceUnavailable, ApiErrorKind.ServiceUnavailable,
                "MeterAgent is stopping and takes no new requests; send the request again.");
            return;
        }

        context.Features.Set(ticket);
        try
        {
            await next(context);
        }
        finally
        {
            drain.Leave(ticket);
        }
    }
}
