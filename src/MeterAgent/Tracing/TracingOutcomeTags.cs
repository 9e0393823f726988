using System.Diagnostics;
using System.Globalization;
using MeterAgent.Ledger.Outcomes;
using MeterAgent.Ledger.Usage;
using MeterAgent.Metering.Surfaces;

namespace MeterAgent.Tracing;

/// <summary>What a settled outcome says on the span: counts, served model, usage id, contract, and how it ended.</summary>
internal static class TracingOutcomeTags
{
    public static void Apply(Activity span, ApiSurface surface, RequestOutcome outcome, RedemptionSummary? redemption)
    {
        span.SetTag(TracingAttributes.UsageId, outcome.UsageId);
        span.SetTag(TracingAttributes.AccountId, outcome.AccountId);
        span.SetTag(TracingAttributes.Status, StatusName(outcome.Status));
        span.SetTag(TracingAttributes.Stream, outcome.Stream);
        if (outcome.ServedModel is { } served)
        {
            span.SetTag(TracingAttributes.ResponseModel, TracingAttributes.Bounded(served));
        }

        if (outcome.Forwarded)
        {
            TagCounts(span, surface, outcome);
        }

        if (redemption?.ContractId is { } contract)
        {
            span.SetTag(TracingAttributes.Contract, contract);
        }

        if (redemption?.UnitsBasis is { } basis)
        {
            span.SetTag(TracingAttributes.UnitsBasis, basis);
        }

        if (outcome.FirstTokenAt is { } firstToken)
        {
            span.AddEvent(new ActivityEvent(TracingAttributes.FirstTokenEvent, firstToken));
        }

        TagEnd(span, outcome);
    }

    /// <summary>The conventions' usage counts: the upstream's own when it reported them, else the agent's reference counts.</summary>
    private static void TagCounts(Activity span, ApiSurface surface, RequestOutcome outcome)
    {
        var counts = outcome.Counts;
        var native = outcome.NativeReported;
        span.SetTag(TracingAttributes.TokenCounts, native ? "native" : "reference");
        span.SetTag(TracingAttributes.InputTokens, native ? counts.NativeInput : counts.ReferenceInput);
        span.SetTag(TracingAttributes.ReferenceInputTokens, counts.ReferenceInput);
        if (surface != ApiSurface.OpenAIEmbeddings)
        {
            span.SetTag(TracingAttributes.OutputTokens, native ? counts.NativeOutput ?? counts.ReferenceOutput : counts.ReferenceOutput);
            span.SetTag(TracingAttributes.ReferenceOutputTokens, counts.ReferenceOutput);
        }
    }

    /// <summary>
    /// A request that did not complete carries error.type: the HTTP status the client got when it is an error status
    /// (402, 429, 502, ...), else how the record ended (upstream_failed for a stream broken off after its 200). A client
    /// that left is not an error of the agent's or the upstream's: its status says so, without error.type.
    /// </summary>
    private static void TagEnd(Activity span, RequestOutcome outcome)
    {
        if (outcome.Status is UsageStatus.Completed or UsageStatus.ClientAborted or UsageStatus.Open)
        {
            return;
        }

        var errorType = outcome.HttpStatus is { } code && code >= 400 ? StatusCodeText(code) : StatusName(outcome.Status);
        span.SetTag(TracingAttributes.ErrorType, errorType);
        span.SetStatus(ActivityStatusCode.Error, StatusName(outcome.Status));
    }

    public static string StatusCodeText(int code) => code.ToString(CultureInfo.InvariantCulture);

    /// <summary>Statuses as the records spell them.</summary>
    public static string StatusName(UsageStatus status) => status switch
    {
        UsageStatus.Open => "open",
        UsageStatus.Completed => "completed",
        UsageStatus.ClientAborted => "client_aborted",
        UsageStatus.UpstreamFailed => "upstream_failed",
        UsageStatus.UpstreamError => "upstream_error",
        UsageStatus.Rejected => "rejected",
        UsageStatus.Interrupted => "interrupted",
        UsageStatus.Failed => "failed",
        _ => "unknown",
    };
}
