using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using MeterAgent.Emulator;

namespace MeterAgent.IntegrationTests;

/// <summary>
/// kill -9 of the agent during streaming load: after a restart every request that reached the upstream has a closed
/// record. Each request names a model of its own ("emu-crash-{guid}"); the emulator records every request it
/// received, and the record keeps the requested model, so the set of requests the upstream saw maps onto records one
/// to one, with no count to hide a missing record behind an extra one.
/// </summary>
public sealed class CrashRecoveryTests
{
    private const string MarkerPrefix = "emu-crash-";

    [Fact]
    public async Task Every_request_that_reached_upstream_is_accounted_for_after_kill_9()
    {
        await using var emulator = await RunningEmulator.StartAsync(
            new EmulatorOptions { RequiredApiKey = TestAgent.UpstreamKey, TimeToFirstToken = TimeSpan.FromMilliseconds(50), TokensPerSecond = 50 },
            recordRequests: true);
        using var folder = new TempFolder("meteragent-crash-");
        var database = folder.File("meteragent.db");
        var proxyPort = FreePort.Next();
        var managementPort = FreePort.Next();

        var usageIdsSeenByClients = new System.Collections.Concurrent.ConcurrentBag<string>();
        var completedByClient = 0;
        var midStream = 0;
        await using (var agent = await AgentProcess.StartAsync(database, emulator.Url, proxyPort, managementPort))
        {
            using var admin = agent.AdminClient();
            var account = await (await admin.PostAsJsonAsync("admin/accounts", new { name = "crash" })).Content.ReadFromJsonAsync<JsonElement>();
            var key = await (await admin.PostAsync($"admin/accounts/{account.GetProperty("id").GetString()}/keys", null)).Content.ReadFromJsonAsync<JsonElement>();
            var clientKey = key.GetProperty("key").GetString()!;

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
                                $$"""{"model":"{{MarkerPrefix}}{{Guid.NewGuid():N}}","stream":true,"max_tokens":40,"messages":[{"role":"user","content":"crash test {{worker}}"}]}""",
                                Encoding.UTF8, "application/json"),
                        };
                        request.Headers.Authorization = new("Bearer", clientKey);
                        using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
                        if (response.Headers.TryGetValues("x-meteragent-usage-id", out var ids))
                        {
                            usageIdsSeenByClients.Add(ids.Single());
                        }

                        Interlocked.Increment(ref midStream);
                        string body;
                        try
                        {
                            body = await response.Content.ReadAsStringAsync();
                        }
                        finally
                        {
                            Interlocked.Decrement(ref midStream);
                        }

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

            // Let requests complete and others be mid-stream (their records written ahead, their 0.8 s streams running),
            // then crash.
            await Eventually.TrueAsync(
                () => Volatile.Read(ref completedByClient) >= 20 && Volatile.Read(ref midStream) >= 4,
                "20 streams completed and 4 mid-stream before the crash");
            agent.KillHard();
            await stop.CancelAsync();
            await Task.WhenAll(load);
        }

        var reachedUpstream = emulator.Received
            .Select(r => JsonDocument.Parse(r.Body).RootElement.GetProperty("model").GetString()!)
            .ToList();
        Assert.True(reachedUpstream.Count > 20, $"load did not get going: {reachedUpstream.Count} requests reached the upstream");
        Assert.Equal(reachedUpstream.Count, reachedUpstream.Distinct().Count());

        // Restarted: recovery closes what the crash left open.
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

        Assert.DoesNotContain(records, r => r.GetProperty("status").GetString() == "open");
        var recordsByModel = records.ToLookup(r => r.GetProperty("requested_model").GetString()!);

        // Every request the upstream received has exactly one record, closed.
        var missing = reachedUpstream.Where(model => recordsByModel[model].Count() != 1).ToList();
        Assert.True(missing.Count == 0, $"{missing.Count} of {reachedUpstream.Count} requests that reached the upstream have no single record: {string.Join(", ", missing.Take(5))}");
        var statuses = reachedUpstream.Select(model => recordsByModel[model].Single().GetProperty("status").GetString()!).ToList();
        Assert.Contains("interrupted", statuses);
        Assert.Contains("completed", statuses);

        // And every usage id a client was given names a record.
        var recordIds = records.Select(r => r.GetProperty("id").GetString()).ToHashSet();
        Assert.All(usageIdsSeenByClients, id => Assert.Contains(id, recordIds));
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
        using var folder = new TempFolder("meteragent-expiry-");
        var database = folder.File("meteragent.db");
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

            await Eventually.TrueAsync(
                async () => ClearingHouse.Units((await admin.GetFromJsonAsync<JsonElement>($"admin/accounts/{accountId}/lots"))[0], "pending") > 0,
                "the streams hold reservations before the crash");
            agent.KillHard();
            await Task.WhenAll(streams);
        }

        await using var restarted = await AgentProcess.StartAsync(database, emulator.Url, proxyPort, managementPort, settings);
        using var restartedAdmin = restarted.AdminClient();
        var lot = await Eventually.ThatAsync(
            async () => (await restartedAdmin.GetFromJsonAsync<JsonElement>($"admin/accounts/{accountId}/lots"))[0],
            l => ClearingHouse.Units(l, "pending") == 0,
            "the crashed agent's reservations expire");
        Assert.Equal(0m, ClearingHouse.Units(lot, "redeemed"));
        Assert.Equal(10_000m, ClearingHouse.Units(lot, "available"));
    }
}
