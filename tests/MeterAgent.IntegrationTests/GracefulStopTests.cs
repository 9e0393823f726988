using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using MeterAgent.Emulator;

namespace MeterAgent.IntegrationTests;

/// <summary>
/// SIGTERM to the agent process while slow streams are in flight: the streams finish, every record is closed before
/// the process exits. Read from the SQLite file afterwards, with no agent running, so no start-up recovery hides a
/// record the stop left open.
/// </summary>
public sealed class GracefulStopTests
{
    private const int Streams = 8;
    private const int OutputTokens = 100_000;

    [Fact]
    public async Task Sigterm_mid_stream_lets_every_stream_finish_and_leaves_no_record_open()
    {
        using var folder = new TempFolder("meteragent-sigterm-");
        var database = folder.File("meteragent.db");
        await using var emulator = await RunningEmulator.StartAsync(new EmulatorOptions { RequiredApiKey = TestAgent.UpstreamKey, DefaultOutputTokens = OutputTokens });
        await using var agent = await AgentProcess.StartAsync(database, emulator.Url, FreePort.Next(), FreePort.Next());
        string key;
        using (var admin = agent.AdminClient())
        {
            var account = await (await admin.PostAsJsonAsync("admin/accounts", new { name = "sigterm" })).Content.ReadFromJsonAsync<JsonElement>();
            key = (await (await admin.PostAsync($"admin/accounts/{account.GetProperty("id").GetString()}/keys", null)).Content.ReadFromJsonAsync<JsonElement>())
                .GetProperty("key").GetString()!;
        }

        using var client = new HttpClient { BaseAddress = new Uri(agent.ProxyUrl), Timeout = TimeSpan.FromSeconds(60) };
        var streams = Enumerable.Range(0, Streams).Select(async i =>
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "v1/chat/completions")
            {
                Content = new StringContent(
                    $$"""{"model":"emu-chat","stream":true,"max_tokens":{{OutputTokens}},"messages":[{"role":"user","content":"long stream {{i}}"}]}""",
                    Encoding.UTF8, "application/json"),
            };
            request.Headers.Authorization = new("Bearer", key);

            // The first token comes 1.5 s after the request (far longer than it takes to send the signal), then a
            // long output fast: its settlement (counting it, closing the record) ends well after the stream.
            request.Headers.Add("x-emulator-ttft-ms", "1500");
            request.Headers.Add("x-emulator-tokens-per-second", "1000000");
            request.Headers.Add("x-emulator-tokens-per-event", "500");
            using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
            var body = await response.Content.ReadAsStringAsync();
            return (response.StatusCode, body, Id: response.Headers.GetValues("x-meteragent-usage-id").Single());
        }).ToArray();

        await Eventually.TrueAsync(() => emulator.Stats.InFlight == Streams, "every stream at the upstream");
        Assert.Equal(0, emulator.Stats.RequestsCompleted);
        agent.Terminate();

        var exitCode = await agent.WaitForExitAsync();
        var results = await Task.WhenAll(streams);
        Assert.True(exitCode == 0, $"the agent exited with {exitCode} on SIGTERM:\n{agent.Output}");

        // Every stream the client read is complete: the stop did not cut any.
        Assert.All(results, r =>
        {
            Assert.Equal(HttpStatusCode.OK, r.StatusCode);
            Assert.EndsWith("data: [DONE]\n\n", r.body, StringComparison.Ordinal);
        });

        // Every record closed before the process exited, as completed.
        var records = StoreFile.Records(database);
        Assert.Equal(results.Select(r => r.Id).Order(), records.Select(r => r.Id).Order());
        Assert.All(records, r => Assert.True(r.Status == "completed", $"record {r.Id} is {r.Status} after a graceful stop"));
    }
}
