using MeterAgent.Contracts.Units;
using MeterAgent.Counters;
using MeterAgent.Ledger.Counters;
using MeterAgent.Ledger.Outcomes;
using MeterAgent.Ledger.Usage;
using Microsoft.Extensions.Logging.Abstractions;

namespace MeterAgent.Tests.Counters;

/// <summary>The in-process side of live counters: settled requests summed per key, flushed as batches retried under one id.</summary>
public sealed class LiveCounterAggregatorTests
{
    private static SettledRequest Settled(string account, string model, long input)
    {
        var outcome = new RequestOutcome
        {
            UsageId = Guid.NewGuid().ToString("N"),
            AccountId = account,
            KeyId = "key_0000000000000001",
            Surface = "openai.chat_completions",
            RequestedModel = model,
            StartedAt = DateTimeOffset.UtcNow,
            EndedAt = DateTimeOffset.UtcNow,
            Status = UsageStatus.Completed,
            Forwarded = true,
            Counts = new MeteredCounts(input, 5, null, null, null, null, null),
        };
        return new SettledRequest(outcome, null, outcome.ToRecord());
    }

    [Fact]
    public async Task A_failed_batch_is_retried_under_the_same_id_and_later_requests_go_into_the_next()
    {
        var store = new FlakyCounters(failures: 1);
        var aggregator = new LiveCounterAggregator(store, TimeProvider.System, NullLogger<LiveCounterAggregator>.Instance);
        await aggregator.OnSettledAsync(Settled("acct_a", "m1", 10), default);
        await aggregator.OnSettledAsync(Settled("acct_a", "m1", 20), default);
        await aggregator.OnSettledAsync(Settled("acct_b", "m2", 1), default);

        await aggregator.FlushAsync(default);
        await aggregator.OnSettledAsync(Settled("acct_a", "m1", 100), default);
        await aggregator.FlushAsync(default);
        await aggregator.FlushAsync(default); // nothing pending: no call

        Assert.Equal(3, store.Calls.Count);
        Assert.Equal(store.Calls[0].BatchId, store.Calls[1].BatchId); // the retry
        Assert.NotEqual(store.Calls[1].BatchId, store.Calls[2].BatchId);
        var first = store.Calls[1].Totals;
        Assert.Equal((2L, 30L), (first[new UsageCounterKey("acct_a", "", "m1")].Requests, first[new UsageCounterKey("acct_a", "", "m1")].ReferenceInputTokens));
        Assert.Equal(1, first[new UsageCounterKey("acct_b", "", "m2")].Requests);
        Assert.Equal(100, Assert.Single(store.Calls[2].Totals).Value.ReferenceInputTokens);
    }

    [Fact]
    public async Task A_store_that_sums_its_records_is_never_called()
    {
        var store = new FlakyCounters(failures: 0, needsFlushing: false);
        var aggregator = new LiveCounterAggregator(store, TimeProvider.System, NullLogger<LiveCounterAggregator>.Instance);
        await aggregator.OnSettledAsync(Settled("acct_a", "m1", 10), default);
        await aggregator.FlushAsync(default);
        Assert.Empty(store.Calls);
    }

    private sealed class FlakyCounters(int failures, bool needsFlushing = true) : IUsageCounters
    {
        private int _failures = failures;

        public List<(string BatchId, IReadOnlyDictionary<UsageCounterKey, UsageTotals> Totals)> Calls { get; } = [];

        public bool NeedsFlushing => needsFlushing;

        public Task AddAsync(string batchId, IReadOnlyDictionary<UsageCounterKey, UsageTotals> totals, CancellationToken cancellationToken = default)
        {
            Calls.Add((batchId, totals));
            return _failures-- > 0 ? Task.FromException(new TimeoutException("redis timed out")) : Task.CompletedTask;
        }

        public Task<IReadOnlyList<(string ContractId, string Model, UsageTotals Totals)>> ReadAsync(string accountId, CancellationToken cancellationToken = default) =>
            Task.FromResult<IReadOnlyList<(string, string, UsageTotals)>>([]);
    }
}
