using MeterAgent.Emulator;
using MeterAgent.Ledger.Sqlite;
using MeterAgent.Ledger.Usage;
using Microsoft.Extensions.DependencyInjection;

namespace MeterAgent.IntegrationTests;

/// <summary>
/// The settlement runs on the request's own thread once the response has ended (no hand-off to the thread pool, but
/// for a long text to count), but it must never hold the client: a stream's end and whole JSON answers, short and
/// long, reach the client, each on the same keep-alive connection as the one before, while the durable closes wait.
/// </summary>
public sealed class SettlementOffTheResponseTests
{
    [Fact]
    public async Task The_client_has_its_whole_response_and_its_next_one_while_the_close_waits()
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var agent = await TestAgent.StartAsync(
            new EmulatorOptions { RequiredApiKey = TestAgent.UpstreamKey, TokensPerSecond = 100_000, DefaultOutputTokens = 3000 },
            services: services => services.AddSingleton<IUsageStore>(sp => new GatedClose(sp.GetRequiredService<SqliteUsageStore>(), gate.Task)));

        string[] ids;
        try
        {
            var streamed = await SendAsync(agent, """{"model":"emu-chat","max_tokens":24,"stream":true,"messages":[{"role":"user","content":"hi"}]}""");
            Assert.Contains("data: [DONE]", streamed.Body, StringComparison.Ordinal);
            var json = await SendAsync(agent, """{"model":"emu-chat","max_tokens":8,"messages":[{"role":"user","content":"hi"}]}""");
            Assert.Contains("\"usage\"", json.Body, StringComparison.Ordinal);

            // An answer long enough that its count goes to the thread pool first (MeteringMiddleware.InlineCountChars).
            var longAnswer = await SendAsync(agent, """{"model":"emu-chat","max_tokens":3000,"messages":[{"role":"user","content":"hi"}]}""");
            Assert.True(longAnswer.Body.Length > 2 * Proxy.MeteringMiddleware.InlineCountChars, $"the long answer has {longAnswer.Body.Length} characters");
            ids = [streamed.UsageId, json.UsageId, longAnswer.UsageId];

            // Both answered in full while neither record could close.
            foreach (var id in ids)
            {
                Assert.Equal(UsageStatus.Open, (await agent.Services.GetRequiredService<SqliteUsageStore>().GetAsync(id))?.Status);
            }
        }
        finally
        {
            // Also when an assertion failed, so the agent's stop does not wait for the held closes.
            gate.TrySetResult();
        }

        var store = agent.Services.GetRequiredService<SqliteUsageStore>();
        foreach (var id in ids)
        {
            await Eventually.ThatAsync(async () => (await store.GetAsync(id))?.Status, status => status == UsageStatus.Completed, $"{id} closed as completed");
        }
    }

    private static async Task<(string UsageId, string Body)> SendAsync(TestAgent agent, string body)
    {
        using var request = agent.OpenAIRequest("v1/chat/completions", body);
        using var response = await agent.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead).WaitAsync(TimeSpan.FromSeconds(10));
        response.EnsureSuccessStatusCode();
        var text = await response.Content.ReadAsStringAsync().WaitAsync(TimeSpan.FromSeconds(10));
        return (response.Headers.GetValues("x-meteragent-usage-id").Single(), text);
    }

    /// <summary>The embedded store, whose closes wait for the test to open the gate.</summary>
    private sealed class GatedClose(IUsageStore inner, Task gate) : IUsageStore
    {
        public ValueTask OpenAsync(UsageRecord record, CancellationToken cancellationToken = default) => inner.OpenAsync(record, cancellationToken);

        public async ValueTask CloseAsync(UsageRecord record, CancellationToken cancellationToken = default)
        {
            await gate;
            await inner.CloseAsync(record, cancellationToken);
        }

        public Task<UsageRecord?> GetAsync(string id, CancellationToken cancellationToken = default) => inner.GetAsync(id, cancellationToken);

        public Task<IReadOnlyList<UsageRecord>> QueryAsync(UsageQuery query, CancellationToken cancellationToken = default) => inner.QueryAsync(query, cancellationToken);

        public Task<int> RecoverOpenAsync(CancellationToken cancellationToken = default) => inner.RecoverOpenAsync(cancellationToken);
    }
}
