using System.Diagnostics;
using MeterAgent.Ledger.Outcomes;
using MeterAgent.Metering.Surfaces;
using MeterAgent.Proxy;

namespace MeterAgent.Tracing;

/// <summary>
/// Tags and stops a request's span once its outcome is settled: only then are the counts, the served model and the
/// contract known. Settlement runs after the client has its last byte, so the span waits for it without the request
/// waiting: what it needs of the <see cref="HttpContext"/> is read before the request ends (a context is reused).
/// </summary>
internal sealed class TracingSpanEnd
{
    private readonly Activity _span;
    private readonly ApiSurface _surface;
    private readonly MeteringFeature? _exchange;
    private readonly string? _destination;
    private readonly int _httpStatus;
    private readonly Exception? _failure;

    private TracingSpanEnd(Activity span, ApiSurface surface, HttpContext context, Exception? failure)
    {
        _span = span;
        _surface = surface;
        _exchange = context.Features.Get<MeteringFeature>();
        _destination = context.GetReverseProxyFeature().ProxiedDestination?.Model.Config.Address;
        _httpStatus = context.Response.StatusCode;
        _failure = failure;
    }

    public static void WhenSettled(Activity span, ApiSurface surface, HttpContext context, Exception? failure)
    {
        var end = new TracingSpanEnd(span, surface, context, failure);
        if (end._exchange?.Settlement is { IsCompleted: false } settling)
        {
            settling.ContinueWith(
                static (settled, state) => ((TracingSpanEnd)state!).Finish(settled),
                end,
                CancellationToken.None,
                TaskContinuationOptions.ExecuteSynchronously,
                TaskScheduler.Default);
            return;
        }

        end.Finish(end._exchange?.Settlement);
    }

    private void Finish(Task<SettledRequest>? settlement)
    {
        try
        {
            if (_span.IsAllDataRequested)
            {
                Describe(settlement);
            }
        }
        finally
        {
            _span.Stop();
        }
    }

    private void Describe(Task<SettledRequest>? settlement)
    {
        var settled = settlement is { IsCompletedSuccessfully: true } ? settlement.Result : null;
        var outcome = settled?.Outcome ?? _exchange?.Current;
        var operation = TracingAttributes.Operation(_surface);
        if (outcome?.RequestedModel is { } model)
        {
            var bounded = TracingAttributes.Bounded(model);
            _span.DisplayName = $"{operation} {bounded}";
            _span.SetTag(TracingAttributes.RequestModel, bounded);
        }

        if (_exchange?.MaxOutputTokens is { } maxTokens)
        {
            _span.SetTag(TracingAttributes.RequestMaxTokens, maxTokens);
        }

        TagServer();
        if (outcome is not null)
        {
            TracingOutcomeTags.Apply(_span, _surface, outcome, settled?.Redemption);
        }

        if ((_failure ?? settlement?.Exception?.GetBaseException()) is { } exception)
        {
            // The agent or its store failed: the outcome (if any) is not what was recorded.
            _span.SetTag(TracingAttributes.ErrorType, exception.GetType().FullName);
            _span.SetStatus(ActivityStatusCode.Error, "the agent failed to settle the request");
        }
        else if (outcome is null && _httpStatus >= 400)
        {
            // Refused before metering began (no or a bad client key).
            _span.SetTag(TracingAttributes.ErrorType, TracingOutcomeTags.StatusCodeText(_httpStatus));
            _span.SetStatus(ActivityStatusCode.Error);
        }
    }

    private void TagServer()
    {
        if (_destination is not null && Uri.TryCreate(_destination, UriKind.Absolute, out var upstream))
        {
            _span.SetTag(TracingAttributes.ServerAddress, upstream.Host);
            _span.SetTag(TracingAttributes.ServerPort, upstream.Port);
        }
    }
}
