using System.Collections.Concurrent;
using System.Net;
using MeterAgent.Emulator;
using MeterAgent.Ledger.Outcomes;
using MeterAgent.Ledger.Sqlite;
using MeterAgent.Ledger.Usage;
using Microsoft.Extensions.DependencyInjection;

namespace MeterAgent.IntegrationTests;

/// <summary>
/// One more settlement observer, registered as a new capability would be: it sees every way a request can end,
/// each exactly once, after the record is durable.
/// </summary>
public sealed class SettlementObserverTests
{
    private const string Exploding = "emu-explode";

    [Fact]
    public async Task An_extra_observer_sees_every_outcome_exactly_once()
    {
        var seen = new ConcurrentQueue<(string UsageId, UsageStatus Status, bool Durable)>();
        using var house = ClearingHouse.Create();
        var settings = house.AgentSettings();
        await using var agent = await TestAgent.StartAsync(
            new EmulatorOptions { RequiredApiKey = TestAgent.UpstreamKey, TokensPerSecond = 40, DefaultOutputTokens = 400 },
            settings,
            services: services =>
            {
                // The agent failing: its write-ahead record cannot be written for one model.
                services.AddSingleton<IUsageStore>(sp => new FailingOpen(sp.GetRequiredService<SqliteUsageStore>()));
                services.AddSingleton<ISettlementObserver>(sp => new Recorder(seen, sp.GetRequiredService<SqliteUsageStore>()));
            });

        // No credit yet: 402, rejected before anything goes upstream.
        var noCredit = await SendAsync(agent, """{"model":"emu-chat","max_tokens":8,"messages":[{"role":"user","content":"hi"}]}""");
        Assert.Equal(HttpStatusCode.PaymentRequired, noCredit.Status);

        await ClearingHouse.DeliverAsync(agent.Admin, house.Notice(agent.AccountId, 1_000_000));
        var completed = await SendAsync(agent, """{"model":"emu-chat","max_tokens":8,"messages":[{"role":"user","content":"hi"}]}""");
        var rejected = await SendAsync(agent, """{"model":"emu-chat","messages":[""");
        var upstreamError = await SendAsync(agent, """{"model":"emu-chat","max_tokens":8,"messages":[{"role":"user","content":"hi"}]}""", fault: "error:503");
        var upstreamFailed = await SendAsync(agent, """{"model":"emu-chat","max_tokens":64,"stream":true,"messages":[{"role":"user","content":"hi"}]}""", fault: "disconnect");
        var agentFailure = await SendAsync(agent, $$"""{"model":"{{Exploding}}","max_tokens":8,"messages":[{"role":"user","content":"hi"}]}""");
        Assert.Equal(HttpStatusCode.InternalServerError, agentFailure.Status);
        var clientAborted = await LeaveMidStreamAsync(agent);

        var expected = new Dictionary<UsageStatus, int>
        {
            [UsageStatus.Rejected] = 2, // no credit and malformed JSON
            [UsageStatus.Completed] = 1,
            [UsageStatus.UpstreamError] = 1,
            [UsageStatus.UpstreamFailed] = 1,
            [UsageStatus.Failed] = 1,
            [UsageStatus.ClientAborted] = 1,
        };
        await Eventually.ThatAsync(() => seen.Count, count => count >= 7, "the observer saw seven outcomes");
        await Task.Delay(200); // anything more would be a second sighting

        Assert.Equal(7, seen.Count);
        Assert.Equal(7, seen.Select(s => s.UsageId).Distinct().Count());
        Assert.All(seen, s => Assert.True(s.Durable, $"{s.UsageId} was not closed in the store when the observer saw it"));
        Assert.Equal(expected, seen.GroupBy(s => s.Status).ToDictionary(g => g.Key, g => g.Count()));
        foreach (var (id, status) in new[]
                 {
                     (noCredit.UsageId, UsageStatus.Rejected), (completed.UsageId, UsageStatus.Completed),
                     (rejected.UsageId, UsageStatus.Rejected), (upstreamError.UsageId, UsageStatus.UpstreamError),
                     (upstreamFailed.UsageId, UsageStatus.UpstreamFailed), (clientAborted, UsageStatus.ClientAborted),
                 })
        {
            Assert.Contains((id!, status, true), seen);
        }
    }

    private static async Task<(HttpStatusCode Status, string? UsageId)> SendAsync(TestAgent agent, string body, string? fault = null)
    {
        using var request = agent.OpenAIRequest("v1/chat/completions", body);
        if (fault is not null)
        {
            request.Headers.Add("x-emulator-fault", fault);
        }

        using var response = await agent.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        try
        {
            await response.Content.ReadAsStringAsync();
        }
        catch (HttpRequestException) when (fault == "disconnect")
        {
            // The upstream broke off mid-stream, so the agent broke off the client's connection too.
        }

        return (response.StatusCode, response.Headers.TryGetValues("x-meteragent-usage-id", out var ids) ? ids.Single() : null);
    }

    private static async Task<string> LeaveMidStreamAsync(TestAgent agent)
    {
        using var leaving = new HttpClient(new SocketsHttpHandler { MaxResponseDrainSize = 0 }) { BaseAddress = new Uri(agent.ProxyUrl) };
        using var request = agent.OpenAIRequest("v1/chat/completions", """{"model":"emu-chat","max_tokens":400,"stream":true,"messages":[{"role":"user","content":"long"}]}""");
        var response = await leaving.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        var id = response.Headers.GetValues("x-meteragent-usage-id").Single();
        using (var reader = new StreamReader(await response.Content.ReadAsStreamAsync()))
        {
            await reader.ReadLineAsync();
        }

        response.Dispose();
        return id;
    }

    private sealed class Recorder(ConcurrentQueue<(string, UsageStatus, bool)> seen, IUsageStore store) : ISettlementObserver
    {
        public async ValueTask OnSettledAsync(SettledRequest settled, CancellationToken cancellationToken)
        {
            var stored = await store.GetAsync(settled.Outcome.UsageId, cancellationToken);
            seen.Enqueue((settled.Outcome.UsageId, settled.Outcome.Status, stored?.Status == settled.Outcome.Status));
        }
    }

    /// <summary>The real store, except that the write-ahead open fails for one model: the agent's own failure.</summary>
    private sealed class FailingOpen(IUsageStore inner) : IUsageStore
    {
        public ValueTask OpenAsync(UsageRecord record, CancellationToken cancellationToken = default) =>
            record.RequestedModel == Exploding
                ? throw new InvalidOperationException("the store refused the write-ahead record")
                : inner.OpenAsync(record, cancellationToken);

        public ValueTask CloseAsync(UsageRecord record, CancellationToken cancellationToken = default) => inner.CloseAsync(record, cancellationToken);

        public Task<UsageRecord?> GetAsync(string id, CancellationToken cancellationToken = default) => inner.GetAsync(id, cancellationToken);

        public Task<IReadOnlyList<UsageRecord>> QueryAsync(UsageQuery query, CancellationToken cancellationToken = default) => inner.QueryAsync(query, cancellationToken);

        public Task<int> RecoverOpenAsync(CancellationToken cancellationToken = default) => inner.RecoverOpenAsync(cancellationToken);
    }
}
