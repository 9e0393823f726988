using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using MeterAgent.Emulator;

namespace MeterAgent.IntegrationTests;

/// <summary>
/// SIGTERM to the agent process during 32 paced streams (README, "Stopping"). Within MeterAgent:DrainTimeout every
/// stream finishes and its record closes completed; past it the rest are cut and closed interrupted. Either way the
/// process exits 0 with no record open, read from the SQLite file with no agent running (no recovery hides one).
/// </summary>
public sealed class DrainTests
{
    private const int Streams = 32;

    [Fact]
    public async Task Streams_that_end_within_the_drain_time_all_complete_and_every_record_closes_completed()
    {
        // 40 tokens at 16 per second: each stream lasts about 2.5 s, well inside a 60 s drain.
        await using var run = await StopRun.StartAsync(outputTokens: 40, tokensPerSecond: 16, drainTimeout: "00:01:00");
        await run.TerminateWhenAllStreamingAsync();

        // A request sent during the drain is not served: refused on a new connection, or 503 on an open one. Sent once
        // the agent says it is draining (a request sent before the signal is handled is an ordinary request).
        await Eventually.TrueAsync(() => run.Agent.Output.Contains("new ones are refused", StringComparison.Ordinal), "the drain began");
        using (var late = new HttpClient { BaseAddress = new Uri(run.Agent.ProxyUrl), Timeout = TimeSpan.FromSeconds(10) })
        {
            try
            {
                using var response = await late.SendAsync(run.Request("late"));
                Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
            }
            catch (HttpRequestException)
            {
                // Connection refused: the listener is closed.
            }
        }

        var exitCode = await run.Agent.WaitForExitAsync();
        var results = await Task.WhenAll(run.Streams);
        Assert.True(exitCode == 0, $"the agent exited with {exitCode} on SIGTERM:\n{run.Agent.Output}");
        Assert.All(results, r =>
        {
            Assert.True(r.Error is null, $"stream {r.Id} broke: {r.Error}");
            Assert.EndsWith("data: [DONE]\n\n", r.Body, StringComparison.Ordinal);
        });

        var records = StoreFile.Records(run.Database);
        Assert.Equal(results.Select(r => r.Id).Order(), records.Select(r => r.Id).Order());
        Assert.All(records, r => Assert.True(r.Status == "completed", $"record {r.Id} is {r.Status} after a graceful stop"));
    }

    [Fact]
    public async Task Streams_still_running_when_the_drain_time_ends_are_cut_and_closed_interrupted()
    {
        // 400 tokens at 20 per second: 20 s each, far past a 2 s drain.
        await using var run = await StopRun.StartAsync(outputTokens: 400, tokensPerSecond: 20, drainTimeout: "00:00:02");
        var stoppedAt = await run.TerminateWhenAllStreamingAsync();

        var exitCode = await run.Agent.WaitForExitAsync();
        var stoppedAfter = TimeProvider.System.GetElapsedTime(stoppedAt);
        var results = await Task.WhenAll(run.Streams);
        Assert.True(exitCode == 0, $"the agent exited with {exitCode} on SIGTERM:\n{run.Agent.Output}");
        Assert.True(stoppedAfter < TimeSpan.FromSeconds(15), $"the stop took {stoppedAfter}: the streams were not cut at the drain time");

        // Cut, not finished: the client's read broke off before the end of the stream.
        Assert.All(results, r => Assert.True(r.Error is not null || !r.Body.EndsWith("data: [DONE]\n\n", StringComparison.Ordinal), $"stream {r.Id} finished"));

        var records = StoreFile.Records(run.Database);
        Assert.Equal(results.Select(r => r.Id).Order(), records.Select(r => r.Id).Order());
        Assert.All(records, r => Assert.True(r.Status == "interrupted", $"record {r.Id} is {r.Status} after the drain time ran out"));
    }

    private sealed record StreamResult(string Id, string Body, string? Error);

    /// <summary>An emulator, an agent process with a key, and <see cref="Streams"/> paced streams under way.</summary>
    private sealed class StopRun : IAsyncDisposable
    {
        private readonly TempFolder _folder;
        private readonly RunningEmulator _emulator;
        private readonly HttpClient _client;
        private readonly string _key;
        private readonly int _tokensPerSecond;

        private StopRun(TempFolder folder, RunningEmulator emulator, AgentProcess agent, string key, int tokensPerSecond)
        {
            _folder = folder;
            _emulator = emulator;
            Agent = agent;
            _key = key;
            _tokensPerSecond = tokensPerSecond;
            _client = new HttpClient { BaseAddress = new Uri(agent.ProxyUrl), Timeout = TimeSpan.FromSeconds(90) };
        }

        public AgentProcess Agent { get; }

        public string Database => _folder.DbPath;

        public Task<StreamResult>[] Streams { get; private set; } = [];

        public static async Task<StopRun> StartAsync(int outputTokens, int tokensPerSecond, string drainTimeout)
        {
            var folder = new TempFolder("meteragent-drain-");
            var emulator = await RunningEmulator.StartAsync(new EmulatorOptions { RequiredApiKey = TestAgent.UpstreamKey, DefaultOutputTokens = outputTokens });
            var agent = await AgentProcess.StartAsync(folder.DbPath, emulator.Url, FreePort.Next(), FreePort.Next(), $"--MeterAgent:DrainTimeout={drainTimeout}",
                "--Logging:LogLevel:MeterAgent.Shutdown=Information");
            string key;
            using (var admin = agent.AdminClient())
            {
                var account = await (await admin.PostAsJsonAsync("admin/accounts", new { name = "drain" })).Content.ReadFromJsonAsync<JsonElement>();
                key = (await (await admin.PostAsync($"admin/accounts/{account.GetProperty("id").GetString()}/keys", null)).Content.ReadFromJsonAsync<JsonElement>())
                    .GetProperty("key").GetString()!;
            }

            var run = new StopRun(folder, emulator, agent, key, tokensPerSecond);
            run.Streams = [.. Enumerable.Range(0, DrainTests.Streams).Select(i => run.StreamAsync(i))];
            return run;
        }

        public HttpRequestMessage Request(string text)
        {
            var request = new HttpRequestMessage(HttpMethod.Post, "v1/chat/completions")
            {
                Content = new StringContent(
                    $$"""{"model":"emu-chat","stream":true,"messages":[{"role":"user","content":"{{text}}"}]}""", Encoding.UTF8, "application/json"),
            };
            request.Headers.Authorization = new("Bearer", _key);
            request.Headers.Add("x-emulator-tokens-per-second", _tokensPerSecond.ToString(System.Globalization.CultureInfo.InvariantCulture));
            request.Headers.Add("x-emulator-tokens-per-event", "1");
            return request;
        }

        /// <summary>SIGTERM once every stream is at the upstream and none has ended; returns when it was sent.</summary>
        public async Task<long> TerminateWhenAllStreamingAsync()
        {
            await Eventually.TrueAsync(() => _emulator.Stats.InFlight == DrainTests.Streams, "every stream at the upstream");
            Assert.Equal(0, _emulator.Stats.RequestsCompleted);
            var at = TimeProvider.System.GetTimestamp();
            Agent.Terminate();
            return at;
        }

        private async Task<StreamResult> StreamAsync(int i)
        {
            using var request = Request($"stream {i}");
            using var response = await _client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var id = response.Headers.GetValues("x-meteragent-usage-id").Single();
            try
            {
                return new StreamResult(id, await response.Content.ReadAsStringAsync(), null);
            }
            catch (Exception ex) when (ex is HttpRequestException or IOException)
            {
                return new StreamResult(id, string.Empty, ex.GetType().Name);
            }
        }

        public async ValueTask DisposeAsync()
        {
            _client.Dispose();
            await Agent.DisposeAsync();
            await _emulator.DisposeAsync();
            _folder.Dispose();
        }
    }
}
