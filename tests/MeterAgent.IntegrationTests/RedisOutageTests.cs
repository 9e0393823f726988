using System.Net;
using MeterAgent.Ledger.Credits;
using MeterAgent.Ledger.Redis;
using MeterAgent.Ledger.Usage;
using MeterAgent.IntegrationTests.WebConsole;
using Microsoft.Extensions.DependencyInjection;

namespace MeterAgent.IntegrationTests;

/// <summary>
/// Redis unavailable (docs/distributed.md): a real redis-server killed and started again on its port with its AOF. A
/// credited request in flight when Redis goes settles from the local outbox once it is back, exactly once; new requests
/// meanwhile are refused with 503 in each API's shape under fail_closed, and readiness says so.
/// </summary>
public sealed class RedisOutageTests : RedisAgentTests
{
    private Task<TestAgent> StartAsync(string replica, string? storePath = null)
    {
        var settings = RedisSettings("outage:", replica, QuickTimeouts);
        settings["Redis:OutageRetryAfter"] = "00:00:03";
        if (storePath is not null)
        {
            settings["Store:Path"] = storePath;
        }

        return TestAgent.StartAsync(settings: settings);
    }

    private static HttpRequestMessage SlowStream(TestAgent agent) => Paced(agent.OpenAIRequest("v1/chat/completions",
        """{"model":"emu-chat","stream":true,"max_tokens":24,"messages":[{"role":"user","content":"Across the outage, please."}]}"""));

    private static HttpRequestMessage Paced(HttpRequestMessage request)
    {
        // 24 tokens at 12 per second: about two seconds of stream, long enough to take Redis down under it.
        request.Headers.Add("x-emulator-tokens-per-second", "12");
        return request;
    }

    /// <summary>Starts <paramref name="count"/> slow streams, and returns once each has its headers (reserved, forwarded).</summary>
    private static async Task<(string UsageId, Task<HttpStatusCode> Finished)[]> StartStreamsAsync(TestAgent agent, int count)
    {
        var started = new List<(string, Task<HttpStatusCode>)>();
        for (var i = 0; i < count; i++)
        {
            var response = await agent.Http.SendAsync(SlowStream(agent), HttpCompletionOption.ResponseHeadersRead);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var usageId = response.Headers.GetValues("x-meteragent-usage-id").Single();
            started.Add((usageId, ReadToEndAsync(response)));
        }

        return [.. started];
    }

    private static async Task<HttpStatusCode> ReadToEndAsync(HttpResponseMessage response)
    {
        using (response)
        {
            await response.Content.ReadAsStringAsync();
            return response.StatusCode;
        }
    }

    private static async Task AssertReconciledAsync(TestAgent agent, IReadOnlyCollection<string> usageIds)
    {
        var ledger = agent.Services.GetRequiredService<RedisCreditLedger>();
        long sum = 0;
        foreach (var id in usageIds)
        {
            var record = await agent.RecordAsync(id);
            Assert.NotEqual(UsageStatus.Interrupted, record.Status);
            var reservation = await ledger.GetReservationAsync(id);
            Assert.NotNull(reservation);
            Assert.Equal(reservation.State == ReservationState.Posted ? reservation.PostedMicro : 0, record.RedeemedMicro ?? 0);
            Assert.Equal(reservation.ContractId, record.ContractId);
            sum += record.RedeemedMicro ?? 0;
        }

        var lots = await ledger.GetLotsAsync(agent.AccountId);
        Assert.Equal(sum, lots.Sum(l => l.RedeemedMicro));
        Assert.Equal(0, lots.Sum(l => l.PendingMicro));
    }

    [SkippableFact]
    public async Task An_enterprise_console_session_gets_a_503_page_while_redis_is_down_and_its_pages_again_after()
    {
        await using var agent = await StartAsync("outage-console");
        using var enterprise = new ConsoleClient(agent.ProxyUrl);
        var form = await enterprise.GetAsync("/console/signin");
        Assert.Equal(HttpStatusCode.OK, (await enterprise.SubmitAsync(form, "/console/signin", ("key", agent.ClientKey))).Status);

        await Redis.StopAsync();
        // The session's key re-check and the balance both live in Redis: a page, with retry-after, not a 500.
        var down = await enterprise.GetAsync("/console");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, down.Status);
        Assert.Equal("3", down.Header("retry-after"));
        Assert.Contains("unavailable", down.Text, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await enterprise.GetAsync("/console/records")).Status);

        await Redis.StartAgainAsync();
        await Eventually.TrueAsync(async () => (await enterprise.GetAsync("/console")).Status == HttpStatusCode.OK,
            "the same session reads its balance once Redis is back");
    }

    [SkippableFact]
    public async Task Settles_made_while_redis_is_down_close_once_when_it_returns()
    {
        await using var agent = await StartAsync("outage-a");
        var ledger = agent.Services.GetRequiredService<RedisCreditLedger>();
        await ClearingHouse.DeliverAsync(agent.Admin, House.Notice(agent.AccountId, 1000m));

        var streams = await StartStreamsAsync(agent, 3);
        await Redis.StopAsync();

        // The streams in flight finish: their clients get every byte, whatever Redis does.
        foreach (var (_, finished) in streams)
        {
            Assert.Equal(HttpStatusCode.OK, await finished);
        }

        // Their settles wait in the outbox: durable, not closed, not interrupted.
        await Eventually.TrueAsync(() => ledger.PendingSettles == 3, "three settles held in the outbox");
        foreach (var (id, _) in streams)
        {
            Assert.Equal(UsageStatus.Open, (await agent.Usage.GetAsync(id))!.Status);
        }

        await Redis.StartAgainAsync();
        await Eventually.TrueAsync(() => ledger.PendingSettles == 0, "the outbox drained once Redis was back");
        await AssertReconciledAsync(agent, [.. streams.Select(s => s.UsageId)]);
        foreach (var (id, _) in streams)
        {
            var record = await agent.RecordAsync(id);
            Assert.Equal(UsageStatus.Completed, record.Status);
            Assert.True(record.RedeemedMicro > 0, "each request in flight across the outage paid for what it was served");
            Assert.Equal(record.UnitsMicro, record.RedeemedMicro);
        }
    }

    /// <summary>
    /// docs/distributed.md: a replica is usable again, and its outbox drained, within a few seconds of Redis answering,
    /// however long the outage was. Neither the multiplexer's reconnects nor the outbox's probes may have backed off
    /// so far by then that the replica goes on refusing requests (fail_closed) with Redis up.
    /// </summary>
    [SkippableFact]
    public async Task After_a_long_outage_the_replica_serves_and_drains_its_outbox_within_seconds_of_redis_answering()
    {
        await using var agent = await StartAsync("outage-long");
        var ledger = agent.Services.GetRequiredService<RedisCreditLedger>();
        await ClearingHouse.DeliverAsync(agent.Admin, House.Notice(agent.AccountId, 1000m));
        var streams = await StartStreamsAsync(agent, 2);
        await Redis.StopAsync();
        foreach (var (_, finished) in streams)
        {
            Assert.Equal(HttpStatusCode.OK, await finished);
        }

        await Eventually.TrueAsync(() => ledger.PendingSettles == 2, "two settles held in the outbox");

        // Long enough for a schedule that backs off (1, 2, 4, 8 s...) to be in its longest wait when Redis returns.
        await Task.Delay(TimeSpan.FromSeconds(16));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, await StatusAsync(agent));

        await Redis.StartAgainAsync();
        var within = TimeSpan.FromSeconds(8);
        await Eventually.ThatAsync(() => Task.FromResult(ledger.PendingSettles), pending => pending == 0, "the outbox drained", within);
        await AssertReconciledAsync(agent, [.. streams.Select(s => s.UsageId)]);
        await Eventually.ThatAsync(() => StatusAsync(agent), status => status == HttpStatusCode.OK, "a new request served", within);
    }

    private static async Task<HttpStatusCode> StatusAsync(TestAgent agent)
    {
        using var response = await agent.Http.SendAsync(agent.OpenAIRequest("v1/chat/completions",
            """{"model":"emu-chat","max_tokens":4,"messages":[{"role":"user","content":"Are you back?"}]}"""));
        return response.StatusCode;
    }

    [SkippableFact]
    public async Task A_replica_restarted_with_a_pending_intent_posts_it_once_and_never_closes_it_as_interrupted()
    {
        var first = await StartAsync("outage-r");
        string usageId;
        string accountId;
        try
        {
            var ledger = first.Services.GetRequiredService<RedisCreditLedger>();
            accountId = first.AccountId;
            await ClearingHouse.DeliverAsync(first.Admin, House.Notice(first.AccountId, 1000m));
            var streams = await StartStreamsAsync(first, 1);
            usageId = streams[0].UsageId;
            await Redis.StopAsync();
            Assert.Equal(HttpStatusCode.OK, await streams[0].Finished);
            await Eventually.TrueAsync(() => ledger.PendingSettles == 1, "the settle held in the outbox");

            // The replica stops (as a SIGTERM would) with the intent pending; its store stays.
            await first.StopAsync();
            await Redis.StartAgainAsync();

            // The same replica comes back on the same local store and Redis: recovery leaves the record to the outbox,
            // which posts it (once) and closes it.
            await using var second = await StartAsync("outage-r", first.DatabasePath);
            var secondLedger = second.Services.GetRequiredService<RedisCreditLedger>();
            await Eventually.TrueAsync(() => secondLedger.PendingSettles == 0, "the restarted replica drained the outbox");
            var record = await second.RecordAsync(usageId);
            Assert.Equal(UsageStatus.Completed, record.Status);
            Assert.True(record.RedeemedMicro > 0);
            var reservation = await secondLedger.GetReservationAsync(usageId);
            Assert.Equal(ReservationState.Posted, reservation!.State);
            Assert.Equal(reservation.PostedMicro, record.RedeemedMicro);
            var lots = await secondLedger.GetLotsAsync(accountId);
            Assert.Equal(record.RedeemedMicro, lots.Sum(l => l.RedeemedMicro));
            Assert.Equal(0, lots.Sum(l => l.PendingMicro));

            // Its log entry was written with the close, so it ships like any other record.
            var log = second.Services.GetRequiredService<MeterAgent.Ledger.Sqlite.SqliteUsageLog>();
            Assert.NotNull(await log.FindAsync(usageId));
        }
        finally
        {
            await first.DisposeAsync();
        }
    }

    [SkippableFact]
    public async Task Fail_closed_refuses_new_requests_in_each_api_shape_and_reconciles_after()
    {
        await using var agent = await StartAsync("outage-c");
        var ledger = agent.Services.GetRequiredService<RedisCreditLedger>();
        await ClearingHouse.DeliverAsync(agent.Admin, House.Notice(agent.AccountId, 1000m));
        var served = new List<string>();

        // Warm: the key is cached on this replica, so it still authenticates during the outage.
        using (var warm = await agent.Http.SendAsync(agent.OpenAIRequest("v1/chat/completions",
            """{"model":"emu-chat","max_tokens":8,"messages":[{"role":"user","content":"before"}]}""")))
        {
            Assert.Equal(HttpStatusCode.OK, warm.StatusCode);
            served.Add(warm.Headers.GetValues("x-meteragent-usage-id").Single());
        }

        var inFlight = await StartStreamsAsync(agent, 1);
        await Redis.StopAsync();
        await Eventually.TrueAsync(async () => (await ReadyAsync(agent)).Status == HttpStatusCode.ServiceUnavailable, "readiness reports Redis down");
        var (_, ready) = await ReadyAsync(agent);
        Assert.Contains("redis", ready, StringComparison.Ordinal);
        using (var live = await agent.Admin.GetAsync("healthz/live"))
        {
            Assert.Equal(HttpStatusCode.OK, live.StatusCode);
        }

        using (var openAi = await agent.Http.SendAsync(agent.OpenAIRequest("v1/chat/completions",
            """{"model":"emu-chat","max_tokens":8,"messages":[{"role":"user","content":"during"}]}""")))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, openAi.StatusCode);
            Assert.Equal("3", openAi.Headers.GetValues("retry-after").Single());
            var error = (await TestAgent.JsonAsync(openAi)).GetProperty("error");
            Assert.Equal("service_unavailable", error.GetProperty("type").GetString());
            Assert.Equal("service_unavailable", error.GetProperty("code").GetString());
            var record = await agent.RecordForAsync(openAi);
            Assert.Equal(UsageStatus.Rejected, record.Status);
            Assert.Equal(503, record.HttpStatus);
        }

        using (var anthropic = await agent.Http.SendAsync(agent.AnthropicRequest(
            """{"model":"emu-chat","max_tokens":8,"messages":[{"role":"user","content":"during"}]}""")))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, anthropic.StatusCode);
            Assert.True(anthropic.Headers.Contains("retry-after"));
            var body = await TestAgent.JsonAsync(anthropic);
            Assert.Equal("error", body.GetProperty("type").GetString());
            Assert.Equal("overloaded_error", body.GetProperty("error").GetProperty("type").GetString());
        }

        // A key this replica has not cached cannot be checked: 503, not 401 (it may be valid).
        using (var unknown = await agent.Http.SendAsync(agent.OpenAIRequest("v1/chat/completions",
            """{"model":"emu-chat","max_tokens":8,"messages":[{"role":"user","content":"during"}]}""", UncachedKey(agent.ClientKey))))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, unknown.StatusCode);
            Assert.True(unknown.Headers.Contains("retry-after"));
        }

        Assert.Equal(HttpStatusCode.OK, await inFlight[0].Finished);
        served.Add(inFlight[0].UsageId);

        await Redis.StartAgainAsync();
        await Eventually.TrueAsync(async () => (await ReadyAsync(agent)).Status == HttpStatusCode.OK, "ready again once Redis is back");
        using (var after = await agent.Http.SendAsync(agent.OpenAIRequest("v1/chat/completions",
            """{"model":"emu-chat","max_tokens":8,"messages":[{"role":"user","content":"after"}]}""")))
        {
            Assert.Equal(HttpStatusCode.OK, after.StatusCode);
            served.Add(after.Headers.GetValues("x-meteragent-usage-id").Single());
        }

        await Eventually.TrueAsync(() => ledger.PendingSettles == 0, "the outbox drained");
        await AssertReconciledAsync(agent, served);
    }

    /// <summary>A key of the right shape that no lookup has cached: the real one with its last characters changed.</summary>
    private static string UncachedKey(string key) => key[..^4] + (key.EndsWith("aaaa", StringComparison.Ordinal) ? "bbbb" : "aaaa");

    private static async Task<(HttpStatusCode Status, string Body)> ReadyAsync(TestAgent agent)
    {
        using var response = await agent.Admin.GetAsync("healthz/ready");
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }
}
