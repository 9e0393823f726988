using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using MeterAgent.Emulator;

namespace MeterAgent.IntegrationTests;

/// <summary>kill -9 of the agent during streaming load: after a restart every request that reached the upstream has a closed record.</summary>
public sealed class CrashRecoveryTests
{
    [Fact]
    public async Task Every_request_that_reached_upstream_is_accounted_for_after_kill_9()
    {
        await using var emulator = await RunningEmulator.StartAsync(new EmulatorOptions
        {
            RequiredApiKey = TestAgent.UpstreamKey,
            TimeToFirstToken = TimeSpan.FromMilliseconds(50),
            TokensPerSecond = 200,
        });
        var directory = Directory.CreateTempSubdirectory("meteragent-crash-").FullName;
        var database = Path.Combine(directory, "meteragent.db");
        var proxyPort = FreePort.Next();
        var managementPort = FreePort.Next();

        string clientKey;
        var usageIds = new System.Collections.Concurrent.ConcurrentBag<string>();
        var completedByClient = 0;
        await using (var agent = await AgentProcess.StartAsync(database, emulator.Url, proxyPort, managementPort))
        {
            using var admin = agent.AdminClient();
            var account = await (await admin.PostAsJsonAsync("admin/accounts", new { name = "crash" })).Content.ReadFromJsonAsync<JsonElement>();
            var key = await (await admin.PostAsync($"admin/accounts/{account.GetProperty("id").GetString()}/keys", null)).Content.ReadFromJsonAsync<JsonElement>();
            clientKey = key.GetProperty("key").GetString()!;

            using var client = new HttpClient { BaseAddress = new Uri(agent.ProxyUrl) };
            using var stop = new CancellationTokenSource();
            var load = Enumerable.Range(0, 16).Select(worker => Task.Run(async () =>
            {
                while (!stop.IsCancellationRequested)
                {
                    try
                    {
                        using var request = new HttpRequestMessage(HttpMethod.Post, "v1/chat/completions")
                        {
                            Content = new StringContent(
                                $$"""{"model":"emu-chat","stream":true,"max_tokens":40,"messages":[{"role":"user","content":"crash test {{worker}}"}]}""",
                                Encoding.UTF8, "application/json"),
                        };
                        request.Headers.Authorization = new("Bearer", clientKey);
                        using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
                        if (response.Headers.TryGetValues("x-meteragent-usage-id", out var ids))
                        {
                            usageIds.Add(ids.Single());
                        }

                        var body = await response.Content.ReadAsStringAsync();
                        if (body.EndsWith("data: [DONE]\n\n", StringComparison.Ordinal))
                        {
                            Interlocked.Increment(ref completedByClient);
                        }
                    }
                    catch (HttpRequestException)
                    {
                        // The agent died under us: expected.
                    }
                    catch (IOException)
                    {
                        // Same, mid-body.
                    }
                }
            })).ToArray();

            // Let requests complete and others be mid-stream, then crash.
            var deadline = DateTime.UtcNow.AddSeconds(20);
            while (Volatile.Read(ref completedByClient) < 20 && DateTime.UtcNow < deadline)
            {
                await Task.Delay(50);
            }

            agent.KillHard();
            stop.Cancel();
            await Task.WhenAll(load);
        }

        Assert.True(completedByClient >= 20, $"load did not get going: {completedByClient} completed");
        var reachedUpstream = emulator.Stats.RequestsReceived;

        await using var restarted = await AgentProcess.StartAsync(database, emulator.Url, proxyPort, managementPort);
        using var restartedAdmin = restarted.AdminClient();
        var records = new List<JsonElement>();
        string? before = null;
        do
        {
            var page = await restartedAdmin.GetFromJsonAsync<JsonElement>("admin/usage?limit=1000" + (before is null ? "" : "&before=" + before));
            records.AddRange(page.GetProperty("records").EnumerateArray());
            before = page.GetProperty("next_before").ValueKind == JsonValueKind.String ? page.GetProperty("next_before").GetString() : null;
        }
        while (before is not null);

        var statuses = records.GroupBy(r => r.GetProperty("status").GetString()!).ToDictionary(g => g.Key, g => g.Count());
        Assert.False(statuses.ContainsKey("open"), "no record may stay open after recovery");
        Assert.True(records.Count >= reachedUpstream, $"{reachedUpstream} requests reached upstream but only {records.Count} records exist");
        Assert.True(statuses.GetValueOrDefault("interrupted") > 0, "requests in flight at the kill are closed as interrupted");
        Assert.True(statuses.GetValueOrDefault("completed") > 0, "requests that ended before the kill stay completed");

        var recordIds = records.Select(r => r.GetProperty("id").GetString()).ToHashSet();
        Assert.All(usageIds, id => Assert.Contains(id, recordIds));

        try
        {
            Directory.Delete(directory, recursive: true);
        }
        catch (IOException)
        {
            // A leftover temp folder is harmless.
        }
    }
}

/// <summary>A crashed agent's pending reservations come back to the account by themselves.</summary>
public sealed class ReservationExpiryTests
{
    [Fact]
    public async Task Reservations_left_by_kill_9_expire_and_the_credits_return()
    {
        using var house = ClearingHouse.Create();
        await using var emulator = await RunningEmulator.StartAsync(new EmulatorOptions
        {
            RequiredApiKey = TestAgent.UpstreamKey,
            TokensPerSecond = 10,
        });
        var directory = Directory.CreateTempSubdirectory("meteragent-expiry-").FullName;
        var database = Path.Combine(directory, "meteragent.db");
        var proxyPort = FreePort.Next();
        var managementPort = FreePort.Next();
        var settings = house.AgentSettings(("Credits:ReservationTimeout", "00:00:03"), ("Store:ReservationSweepInterval", "00:00:00.500"))
            .Select(pair => $"--{pair.Key}={pair.Value}").ToArray();

        string accountId;
        await using (var agent = await AgentProcess.StartAsync(database, emulator.Url, proxyPort, managementPort, settings))
        {
            using var admin = agent.AdminClient();
            var account = await (await admin.PostAsJsonAsync("admin/accounts", new { name = "expiry" })).Content.ReadFromJsonAsync<JsonElement>();
            accountId = account.GetProperty("id").GetString()!;
            var key = (await (await admin.PostAsync($"admin/accounts/{accountId}/keys", null)).Content.ReadFromJsonAsync<JsonElement>()).GetProperty("key").GetString()!;
            await ClearingHouse.DeliverAsync(admin, house.Notice(accountId, 10_000));

            // Slow streams (10 tokens/s): all still running when the agent dies.
            using var client = new HttpClient { BaseAddress = new Uri(agent.ProxyUrl) };
            var streams = Enumerable.Range(0, 4).Select(async _ =>
            {
                using var request = new HttpRequestMessage(HttpMethod.Post, "v1/chat/completions")
                {
                    Content = new StringContent("""{"model":"emu-chat","stream":true,"max_tokens":64,"messages":[{"role":"user","content":"slow"}]}""", Encoding.UTF8, "application/json"),
                };
                request.Headers.Authorization = new("Bearer", key);
                try
                {
                    using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
                    await response.Content.ReadAsStringAsync();
                }
                catch (Exception ex) when (ex is HttpRequestException or IOException)
                {
                    // The agent died under us: expected.
                }
            }).ToArray();

            var pendingSeen = false;
            for (var attempt = 0; attempt < 100 && !pendingSeen; attempt++)
            {
                var lots = await admin.GetFromJsonAsync<JsonElement>($"admin/accounts/{accountId}/lots");
                pendingSeen = ClearingHouse.Units(lots[0], "pending") > 0;
                await Task.Delay(50);
            }

            Assert.True(pendingSeen, "the streams hold reservations before the crash");
            agent.KillHard();
            await Task.WhenAll(streams);
        }

        await using var restarted = await AgentProcess.StartAsync(database, emulator.Url, proxyPort, managementPort, settings);
        using var restartedAdmin = restarted.AdminClient();
        JsonElement lot = default;
        for (var attempt = 0; attempt < 100; attempt++)
        {
            lot = (await restartedAdmin.GetFromJsonAsync<JsonElement>($"admin/accounts/{accountId}/lots"))[0];
            if (ClearingHouse.Units(lot, "pending") == 0)
            {
                break;
            }

            await Task.Delay(100);
        }

        Assert.Equal(0m, ClearingHouse.Units(lot, "pending"));
        Assert.Equal(0m, ClearingHouse.Units(lot, "redeemed"));
        Assert.Equal(10_000m, ClearingHouse.Units(lot, "available"));

        try
        {
            Directory.Delete(directory, recursive: true);
        }
        catch (IOException)
        {
            // A leftover temp folder is harmless.
        }
    }
}
