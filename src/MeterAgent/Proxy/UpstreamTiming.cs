using System.Diagnostics;
using Yarp.ReverseProxy.Transforms;
using Yarp.ReverseProxy.Transforms.Builder;

namespace MeterAgent.Proxy;

/// <summary>
/// Stamps when a metered request leaves for the upstream and when the upstream's response headers arrive, on its
/// <see cref="MeteringFeature"/>: the upstream's share of the time to response headers, which the proxy's own added
/// latency is measured against. Registered after the other transforms, so the request stamp is the last step before
/// the send. Two timestamps per request, no allocation.
/// </summary>
internal static class UpstreamTiming
{
    public static void Apply(TransformBuilderContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        context.AddRequestTransform(static transform =>
        {
            if (transform.HttpContext.Features.Get<MeteringFeature>() is { } feature)
            {
                feature.UpstreamSentAt = Stopwatch.GetTimestamp();
            }

            return ValueTask.CompletedTask;
        });
        context.AddResponseTransform(static transform =>
        {
            if (transform.ProxyResponse is not null && transform.HttpContext.Features.Get<MeteringFeature>() is { } feature)
            {
                feature.UpstreamHeadersAt = Stopwatch.GetTimestamp();
            }

            return ValueTask.CompletedTask;
        });
    }
}
