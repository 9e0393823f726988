using MeterAgent.Ledger.Usage;

namespace MeterAgent.IntegrationTests.Metrics;

/// <summary>What the counters say after <see cref="MetricsTraffic"/>: each request counted once, by how it ended.</summary>
[Collection(MetricsTraffic.Collection)]
public sealed class MetricsValueTests(MetricsTraffic traffic)
{
    private const string Surface = "openai.chat_completions";

    private PrometheusScrape Scrape => traffic.Scrape;

    [Fact]
    public void Tokens_of_a_known_response_are_counted_native_and_reference_side_by_side()
    {
        var completed = traffic.Completed;
        Assert.True(completed.NativeReported, "the emulator reports usage on a completed request");

        // The other requests of the traffic add to the same series: the completed one is the lower bound, and the
        // reference input is the same for every request forwarded with the same prompt.
        var forwarded = traffic.Records.Where(r => r.Status != UsageStatus.Rejected).ToList();
        Assert.Equal(forwarded.Sum(r => r.ReferenceInputTokens), Tokens("input", "reference"));
        Assert.Equal(forwarded.Sum(r => r.ReferenceOutputTokens), Tokens("output", "reference"));
        Assert.Equal(forwarded.Sum(r => r.NativeInputTokens ?? 0), Tokens("input", "native"));
        Assert.Equal(forwarded.Sum(r => r.NativeOutputTokens ?? 0), Tokens("output", "native"));
        Assert.True(Tokens("input", "native") >= completed.NativeInputTokens);
        Assert.True(Tokens("input", "reference") > 0 && Tokens("output", "reference") > 0);

        // GenAI token usage: one observation per forwarded request and token type, native where reported.
        var usage = Scrape.Find("gen_ai_client_token_usage_count", ("gen_ai_token_type", "input"), ("model", MetricsTraffic.Model)).Sum(s => s.Value);
        Assert.Equal(forwarded.Count, usage);
        Assert.Equal(forwarded.Sum(r => r.NativeOutputTokens ?? r.ReferenceOutputTokens),
            Scrape.Sum("gen_ai_client_token_usage_sum", ("gen_ai_token_type", "output")));
    }

    [Fact]
    public void Requests_are_counted_once_by_status_and_status_class()
    {
        Assert.Equal(traffic.Records.Count, Scrape.Sum("meteragent_requests_total"));
        foreach (var group in traffic.Records.GroupBy(r => (r.Status, r.HttpStatus)))
        {
            var status = System.Text.Json.JsonNamingPolicy.SnakeCaseLower.ConvertName(group.Key.Status.ToString());
            var statusClass = group.Key.HttpStatus is { } code ? $"{code / 100}xx" : "none";
            Assert.Equal(group.Count(), Scrape.Sum("meteragent_requests_total", ("status", status), ("status_class", statusClass)));
        }

        Assert.Equal(2, Scrape.Sum("meteragent_requests_total", ("status", "completed"), ("status_class", "2xx"), ("surface", Surface)));
        Assert.Equal(1, Scrape.Sum("meteragent_requests_total", ("status", "upstream_error"), ("status_class", "5xx")));
        Assert.Equal(1, Scrape.Sum("meteragent_requests_total", ("status", "rejected"), ("status_class", "4xx")));
        Assert.Equal(traffic.Records.Count, Scrape.Sum("gen_ai_server_request_duration_seconds_count"));
    }

    [Fact]
    public void Time_to_first_token_is_observed_for_streams_only()
    {
        var streamsWithFirstToken = traffic.Records.Count(r => r.Stream && r.FirstTokenAt is not null);
        Assert.True(streamsWithFirstToken >= 1);
        Assert.Equal(streamsWithFirstToken, Scrape.Sum("gen_ai_server_time_to_first_token_seconds_count"));
    }

    [Fact]
    public void Refusals_are_counted_by_status_code_and_reason()
    {
        Assert.Equal(1, Scrape.Sum("meteragent_refusals_total", ("status_code", "401"), ("reason", "unauthorized"), ("surface", Surface)));
        Assert.Equal(1, Scrape.Sum("meteragent_refusals_total", ("status_code", "402"), ("reason", "insufficient_credits"), ("surface", Surface)));
        Assert.Equal(2, Scrape.Sum("meteragent_refusals_total"));
    }

    [Fact]
    public void Reservations_and_credits_follow_the_ledger()
    {
        // Four forwarded requests reserved, the account without lots was refused; the two chargeable ones posted, the
        // upstream's failures voided. Expired starts at 0 and stays there.
        Assert.Equal(4, Scrape.Sum("meteragent_reservations_total", ("outcome", "reserved")));
        Assert.Equal(1, Scrape.Sum("meteragent_reservations_total", ("outcome", "refused")));
        Assert.Equal(2, Scrape.Sum("meteragent_reservations_total", ("outcome", "posted")));
        Assert.Equal(2, Scrape.Sum("meteragent_reservations_total", ("outcome", "voided")));
        Assert.Single(Scrape.Find("meteragent_reservations_total", ("outcome", "expired")), s => s.Value == 0);
        Assert.Equal(0, Scrape.Sum("meteragent_reservations_pending"));

        var redeemedMicro = traffic.Records.Sum(r => r.RedeemedMicro ?? 0);
        Assert.True(redeemedMicro > 0);
        Assert.Equal(redeemedMicro / 1_000_000d, Scrape.Sum("meteragent_credit_units_redeemed_total", ("contract", ClearingHouse.ContractId)), 6);
        Assert.Equal(0, Scrape.Sum("meteragent_credit_units_overage_total", ("contract", ClearingHouse.ContractId)));
    }

    [Fact]
    public async Task Credit_gauges_show_what_the_ledger_holds()
    {
        var scrape = await Eventually.ThatAsync(
            () => PrometheusScrape.GetAsync(traffic.Agent.Admin),
            s => Math.Abs(s.Sum("meteragent_credit_units_available", ("contract", ClearingHouse.ContractId)) - (1000 - traffic.Records.Sum(r => r.RedeemedMicro ?? 0) / 1_000_000d)) < 1e-6,
            "the poller's available units equal the delivery less what was redeemed");
        Assert.Equal(0, scrape.Sum("meteragent_credit_units_pending", ("contract", ClearingHouse.ContractId)));
    }

    [Fact]
    public void Store_and_log_gauges_read_the_store()
    {
        Assert.Equal(0, Scrape.Sum("meteragent_store_open_records"));
        Assert.True(Scrape.Sum("meteragent_store_commit_batch_size_count") >= traffic.Records.Count);
        Assert.True(Scrape.Sum("meteragent_store_commit_duration_seconds_count") >= traffic.Records.Count);
        Assert.True(Scrape.Sum("meteragent_store_wal_bytes") > 0, "the WAL holds the recent commits");
        Assert.Equal(traffic.Records.Count, Scrape.Sum("meteragent_log_entries"));
    }

    [Fact]
    public void The_proxys_overhead_is_observed_for_answers_the_upstream_started()
    {
        // The completed request, the stream, the 500 and the stream broken off after its headers.
        Assert.Equal(4, Scrape.Sum("meteragent_proxy_overhead_seconds_count", ("surface", Surface)));
        Assert.True(Scrape.Sum("meteragent_proxy_overhead_seconds_sum") < 4 * 0.25, "the agent adds well under 250 ms per request on loopback");
    }

    private double Tokens(string tokenType, string basis) =>
        Scrape.Sum("meteragent_tokens_total", ("token_type", tokenType), ("basis", basis), ("model", MetricsTraffic.Model));
}
