using System.Net;

namespace MeterAgent.IntegrationTests.Metrics;

/// <summary>
/// One agent with credits on, after the traffic every metric test reads: a completed request, a completed stream,
/// an upstream 500, an upstream that breaks off a stream, a 401 and a 402 (an account without lots). Shared by the
/// tests of one class, so the agent starts and the traffic runs once.
/// </summary>
public sealed class MetricsTraffic : IAsyncLifetime
{
    public const string Collection = "metrics traffic";

    public const string Model = "emu-chat";

    public ClearingHouse House { get; private set; } = null!;

    public TestAgent Agent { get; private set; } = null!;

    /// <summary>The usage records of the metered requests (all but the 401, which never becomes one), closed.</summary>
    public List<Ledger.Usage.UsageRecord> Records { get; } = [];

    /// <summary>The completed, non-streamed request's record: its counts are what the token counters must show.</summary>
    public Ledger.Usage.UsageRecord Completed { get; private set; } = null!;

    /// <summary>The management port's scrape once every metered request has been counted.</summary>
    public PrometheusScrape Scrape { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        House = ClearingHouse.Create();
        Agent = await TestAgent.StartAsync(settings: House.AgentSettings(("Metrics:LedgerPollInterval", "00:00:01")));
        await ClearingHouse.DeliverAsync(Agent.Admin, House.Notice(Agent.AccountId, 1000m));
        var broke = await Agent.Accounts.CreateAccountAsync("no-lots");
        var brokeKey = (await Agent.Accounts.IssueKeyAsync(broke.Id))!.Secret;

        using (var ok = await Agent.Http.SendAsync(Chat(stream: false)))
        {
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
            Completed = await Agent.RecordForAsync(ok);
            Records.Add(Completed);
        }

        using (var streamed = await Agent.Http.SendAsync(Chat(stream: true)))
        {
            await streamed.Content.ReadAsStringAsync();
            Records.Add(await Agent.RecordForAsync(streamed));
        }

        using (var failed = await Agent.Http.SendAsync(Chat(stream: false, fault: "error:500")))
        {
            Assert.Equal(HttpStatusCode.InternalServerError, failed.StatusCode);
            Records.Add(await Agent.RecordForAsync(failed));
        }

        using (var brokenOff = await Agent.Http.SendAsync(Chat(stream: true, fault: "disconnect"), HttpCompletionOption.ResponseHeadersRead))
        {
            var usageId = brokenOff.Headers.GetValues("x-meteragent-usage-id").Single();
            await Assert.ThrowsAnyAsync<Exception>(() => brokenOff.Content.ReadAsStringAsync());
            Records.Add(await Agent.RecordAsync(usageId));
        }

        using (var unauthorized = await Agent.Http.SendAsync(Chat(stream: false, key: "not-a-key-of-this-agent")))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, unauthorized.StatusCode);
        }

        using (var noCredits = await Agent.Http.SendAsync(Chat(stream: false, key: brokeKey)))
        {
            Assert.Equal(HttpStatusCode.PaymentRequired, noCredits.StatusCode);
            Records.Add(await Agent.RecordForAsync(noCredits));
        }

        // Observers run after the close is durable: wait until every record is counted, its log entry appended (the
        // usage log is one of those observers, and a loaded CI run once scraped it one entry behind), and the poller
        // saw the lot.
        Scrape = await Eventually.ThatAsync(
            () => PrometheusScrape.GetAsync(Agent.Admin),
            scrape => scrape.Sum("meteragent_requests_total") >= Records.Count
                && scrape.Sum("meteragent_log_entries") >= Records.Count
                && scrape.Sum("meteragent_credit_units_available", ("contract", ClearingHouse.ContractId)) > 0,
            "every metered request counted and logged, and the lot's credits polled");
    }

    public HttpRequestMessage Chat(bool stream, string? fault = null, string? key = null, string model = Model)
    {
        var request = Agent.OpenAIRequest("v1/chat/completions",
            $$"""{"model":"{{model}}","stream":{{(stream ? "true" : "false")}},"max_tokens":24,"messages":[{"role":"user","content":"Count the strip."}]}""", key);
        if (fault is not null)
        {
            request.Headers.Add("x-emulator-fault", fault);
        }

        return request;
    }

    public async Task DisposeAsync()
    {
        await Agent.DisposeAsync();
        House.Dispose();
    }
}

/// <summary>The golden and value tests share one agent and one run of the traffic.</summary>
[CollectionDefinition(MetricsTraffic.Collection)]
public sealed class MetricsTrafficCollection : ICollectionFixture<MetricsTraffic>;
