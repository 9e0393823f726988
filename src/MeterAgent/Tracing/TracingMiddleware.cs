using System.Diagnostics;
using MeterAgent.Metering.Surfaces;
using MeterAgent.Proxy;

namespace MeterAgent.Tracing;

/// <summary>
/// The proxy step before metering, present only when tracing is on: opens the request's span, so it is the current
/// activity while the request is metered and forwarded (YARP's client then sends the upstream a <c>traceparent</c>
/// naming it), and hands it to <see cref="TracingSpanEnd"/> once the response has ended.
/// </summary>
/// <remarks>
/// The span is <see cref="ActivityKind.Internal"/>, a child of ASP.NET Core's request activity: that one is the trace's
/// SERVER span for the client's HTTP request, and the upstream call is HttpClient's CLIENT span under this one. This span
/// is the GenAI operation as the agent metered it (auth, write-ahead, forwarding, settlement), which is neither.
/// Unmetered routes get no GenAI span; ASP.NET Core's span covers them.
/// </remarks>
internal sealed class TracingMiddleware(RequestDelegate next)
{
    public async Task InvokeAsync(HttpContext context)
    {
        var surface = RouteMetadata.ResolveSurface(context.GetReverseProxyFeature().Route.Config, context.Request.Path);
        var span = surface == ApiSurface.Unknown
            ? null
            : TracingActivitySource.Source.StartActivity(TracingAttributes.Operation(surface), ActivityKind.Internal);
        if (span is null)
        {
            await next(context);
            return;
        }

        if (span.IsAllDataRequested)
        {
            span.SetTag(TracingAttributes.OperationName, TracingAttributes.Operation(surface));
            span.SetTag(TracingAttributes.ProviderName, TracingAttributes.Provider(surface));
        }

        Exception? failure = null;
        try
        {
            await next(context);
        }
        catch (Exception exception)
        {
            failure = exception;
            throw;
        }
        finally
        {
            // The span lasts as long as the client's request; settlement, which may finish later, only adds attributes.
            span.SetEndTime(DateTime.UtcNow);
            TracingSpanEnd.WhenSettled(span, surface, context, failure);
        }
    }
}
