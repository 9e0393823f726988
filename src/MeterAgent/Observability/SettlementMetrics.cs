using MeterAgent.Ledger.Outcomes;

namespace MeterAgent.Observability;

/// <summary>
/// The request, token, latency and credit metrics, from each settled request: one more settlement observer, so what
/// is counted is exactly what was made durable, once, and nothing is counted on the client's response path.
/// </summary>
internal sealed class SettlementMetrics(MeterAgentMetrics metrics) : ISettlementObserver
{
    private const double MicroPerUnit = 1_000_000d;

    public ValueTask OnSettledAsync(SettledRequest settled, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(settled);
        Record(settled);
        return ValueTask.CompletedTask;
    }

    /// <summary>Records one settled request (synchronous and allocation-free: the benchmark measures this).</summary>
    public void Record(SettledRequest settled)
    {
        var outcome = settled.Outcome;
        var surface = Tag("surface", MetricLabels.Surface(outcome.Surface));
        var model = Tag("model", metrics.Model(outcome.ServedModel, outcome.RequestedModel));
        var statusClass = Tag("status_class", MetricLabels.StatusClass(outcome.HttpStatus));

        metrics.Requests.Add(1, [surface, model, Tag("status", MetricLabels.Status(outcome.Status)), statusClass]);
        if (outcome.EndedAt is { } ended)
        {
            metrics.RequestDuration.Record((ended - outcome.StartedAt).TotalSeconds, surface, model, statusClass);
        }

        if (outcome.Stream && outcome.FirstTokenAt is { } firstToken)
        {
            metrics.TimeToFirstToken.Record((firstToken - outcome.StartedAt).TotalSeconds, surface, model);
        }

        if (outcome.Forwarded)
        {
            RecordTokens(outcome, surface, model);
        }
        else if (outcome.Status == Ledger.Usage.UsageStatus.Rejected && outcome.HttpStatus is { } refusedWith)
        {
            metrics.Refused(MetricLabels.Surface(outcome.Surface), refusedWith);
        }

        if (outcome.Reservation is not null)
        {
            // The ledger posts a chargeable request's reservation and voids any other's (CreditRedemption).
            metrics.Reservation(outcome.Chargeable ? "posted" : "voided");
        }

        if (settled.Redemption is { } redemption)
        {
            RecordCredits(outcome, redemption);
        }
    }

    private void RecordTokens(RequestOutcome outcome, KeyValuePair<string, object?> surface, KeyValuePair<string, object?> model)
    {
        var counts = outcome.Counts;
        metrics.TokenUsage.Record(counts.NativeInput ?? counts.ReferenceInput, surface, model, Tag("gen_ai.token.type", "input"));
        metrics.TokenUsage.Record(counts.NativeOutput ?? counts.ReferenceOutput, surface, model, Tag("gen_ai.token.type", "output"));

        AddTokens(counts.ReferenceInput, surface, model, "input", "reference");
        AddTokens(counts.ReferenceOutput, surface, model, "output", "reference");
        AddTokens(counts.NativeInput, surface, model, "input", "native");
        AddTokens(counts.NativeCachedInput, surface, model, "cached_input", "native");
        AddTokens(counts.NativeCacheWrite, surface, model, "cache_write", "native");
        AddTokens(counts.NativeOutput, surface, model, "output", "native");
        AddTokens(counts.NativeReasoning, surface, model, "reasoning", "native");
    }

    private void AddTokens(long? count, KeyValuePair<string, object?> surface, KeyValuePair<string, object?> model, string tokenType, string basis)
    {
        if (count is { } tokens)
        {
            metrics.Tokens.Add(tokens, [surface, model, Tag("token_type", tokenType), Tag("basis", basis)]);
        }
    }

    private void RecordCredits(RequestOutcome outcome, RedemptionSummary redemption)
    {
        var contract = Tag("contract", redemption.ContractId ?? MetricLabels.None);
        if (metrics.AccountLabels)
        {
            var account = Tag("account", metrics.Account(outcome.AccountId));
            AddUnits(metrics.CreditUnitsRedeemed, redemption.RedeemedMicro, contract, account);
            AddUnits(metrics.CreditUnitsOverage, redemption.OverageMicro, contract, account);
        }
        else
        {
            AddUnits(metrics.CreditUnitsRedeemed, redemption.RedeemedMicro, contract);
            AddUnits(metrics.CreditUnitsOverage, redemption.OverageMicro, contract);
        }
    }

    private static void AddUnits(System.Diagnostics.Metrics.Counter<double> counter, long micro, params ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        if (micro > 0)
        {
            counter.Add(micro / MicroPerUnit, tags);
        }
    }

    private static KeyValuePair<string, object?> Tag(string key, string value) => new(key, value);
}
