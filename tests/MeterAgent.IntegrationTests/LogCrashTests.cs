using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using MeterAgent.Attestation.Notes;
using MeterAgent.Attestation.Statements;
using MeterAgent.Emulator;

namespace MeterAgent.IntegrationTests;

/// <summary>
/// kill -9 of a signing agent under credited load, then a restart: the log resumes with no gap and no duplicate leaf,
/// every closed record is a leaf, and every credited leaf is counted by exactly one statement.
/// </summary>
public sealed class LogCrashTests
{
    private const string ReadToken = "clearing-house-read-token-for-tests";

    [Fact]
    public async Task After_kill_9_the_log_has_no_gap_no_duplicate_and_every_credited_record_is_in_exactly_one_statement()
    {
        using var house = ClearingHouse.Create(settlementInterval: "00:00:02");
        await using var emulator = await RunningEmulator.StartAsync(
            new EmulatorOptions { RequiredApiKey = TestAgent.UpstreamKey, TokensPerSecond = 50 });
        using var folder = new TempFolder("meteragent-logcrash-");
        var database = folder.File("meteragent.db");
        var key = NoteKeyPair.Generate("meteragent.test/log");
        var settings = house.AgentSettings(
                ("Attestation:SigningKeyPath", folder.Write("log.skey", key.SignerKey)),
                ("Attestation:ReadToken", ReadToken),
                ("Attestation:StatementGrace", "00:00:01"))
            .Select(pair => $"--{pair.Key}={pair.Value}").ToArray();
        var proxyPort = FreePort.Next();
        var managementPort = FreePort.Next();

        var completed = 0;
        await using (var agent = await AgentProcess.StartAsync(database, emulator.Url, proxyPort, managementPort, settings))
        {
            using var admin = agent.AdminClient();
            var account = await (await admin.PostAsJsonAsync("admin/accounts", new { name = "logcrash" })).Content.ReadFromJsonAsync<JsonElement>();
            var accountId = account.GetProperty("id").GetString()!;
            var clientKey = (await (await admin.PostAsync($"admin/accounts/{accountId}/keys", null)).Content.ReadFromJsonAsync<JsonElement>()).GetProperty("key").GetString()!;
            await ClearingHouse.DeliverAsync(admin, house.Notice(accountId, 1_000_000));

            using var client = new HttpClient { BaseAddress = new Uri(agent.ProxyUrl) };
            using var stop = new CancellationTokenSource();
            var load = Enumerable.Range(0, 8).Select(worker => Task.Run(async () =>
            {
                while (!stop.IsCancellationRequested)
                {
                    try
                    {
                        using var request = new HttpRequestMessage(HttpMethod.Post, "v1/chat/completions")
                        {
                            Content = new StringContent(
                                $$"""{"model":"emu-chat","stream":{{(worker % 2 == 0 ? "true" : "false")}},"max_tokens":20,"messages":[{"role":"user","content":"crash {{worker}}"}]}""",
                                Encoding.UTF8, "application/json"),
                        };
                        request.Headers.Authorization = new("Bearer", clientKey);
                        using var response = await client.SendAsync(request);
                        Interlocked.Increment(ref completed);
                    }
                    catch (Exception ex) when (ex is HttpRequestException or IOException)
                    {
                        // The agent died under us: expected.
                    }
                }
            })).ToArray();

            // Statements are being closed while the load runs, then the crash.
            using var clearing = Clearing(agent.ManagementUrl);
            await Eventually.TrueAsync(
                async () => Volatile.Read(ref completed) >= 40 && (await StatementsAsync(clearing, key.VerifierKey)).Count >= 1,
                "load runs and a statement is closed before the crash");
            agent.KillHard();
            await stop.CancelAsync();
            await Task.WhenAll(load);
        }

        await using var restarted = await AgentProcess.StartAsync(database, emulator.Url, proxyPort, managementPort, settings);
        using var restartedClearing = Clearing(restarted.ManagementUrl);

        // Recovery appends what the crash left unlogged; the closer then states every interval it touched.
        var statements = await Eventually.ThatAsync(
            async () => await StatementsAsync(restartedClearing, key.VerifierKey),
            found =>
            {
                var counted = found.SelectMany(s => s.Leaves).ToHashSet();
                return StoreFile.LogEntries(database).Where(e => e.ContractId is not null).All(e => counted.Contains(e.Index));
            },
            "every credited leaf is counted after the restart");

        var entries = StoreFile.LogEntries(database);
        Assert.Equal(Enumerable.Range(0, entries.Count).Select(i => (long)i), entries.Select(e => e.Index));
        Assert.Equal(entries.Count, entries.Select(e => e.UsageId).Distinct().Count());

        var records = StoreFile.Records(database);
        Assert.DoesNotContain(records, r => r.Status == "open");
        Assert.Equal(records.Select(r => r.Id).Order(StringComparer.Ordinal), entries.Select(e => e.UsageId).Order(StringComparer.Ordinal));
        Assert.Contains(records, r => r.Status == "interrupted");

        // Exactly one statement counts each credited leaf, and no statement counts a leaf of another contract.
        var counts = statements.SelectMany(s => s.Leaves).GroupBy(leaf => leaf).ToDictionary(g => g.Key, g => g.Count());
        var credited = entries.Where(e => e.ContractId is not null).ToList();
        Assert.True(credited.Count >= 40, $"only {credited.Count} credited leaves");
        Assert.All(credited, e => Assert.Equal(1, counts.GetValueOrDefault(e.Index)));
        Assert.Equal(credited.Count, counts.Count);
        Assert.Equal(Enumerable.Range(1, statements.Count).Select(i => (long)i), statements.Select(s => s.Sequence));

        // And the clearing house's verifier agrees: the tree, the chain, every statement's leaves and sums.
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var exit = await MeterAgent.Verify.MeterAgentTool.RunAsync(
            ["verify", "--log", restarted.ManagementUrl.TrimEnd('/'), "--key", key.VerifierKey, "--token", ReadToken], stdout, stderr);
        Assert.True(exit == 0, stderr.ToString());
    }

    private static HttpClient Clearing(string managementUrl)
    {
        var client = new HttpClient { BaseAddress = new Uri(managementUrl) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", ReadToken);
        return client;
    }

    private static async Task<List<UsageStatement>> StatementsAsync(HttpClient clearing, string verifierKey)
    {
        var verifier = NoteVerifier.Parse(verifierKey);
        var listed = await clearing.GetFromJsonAsync<JsonElement>("log/statements?limit=1000");
        var statements = new List<UsageStatement>();
        foreach (var item in listed.GetProperty("statements").EnumerateArray())
        {
            var envelope = await clearing.GetByteArrayAsync($"log/statements/{item.GetProperty("sequence").GetInt64()}");
            var (statement, failure) = StatementEnvelope.Open(envelope, verifier);
            statements.Add(statement ?? throw new InvalidOperationException(failure));
        }

        return statements;
    }
}
