using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text.Json;
using MeterAgent.Attestation.Entries;
using MeterAgent.Attestation.Notes;
using MeterAgent.Attestation.Statements;
using MeterAgent.Ledger.Usage;
using Microsoft.Extensions.DependencyInjection;

namespace MeterAgent.IntegrationTests;

/// <summary>
/// Statements end to end: credited traffic through the proxy, two-second settlement intervals, statements pulled by the
/// clearing house over the management API and checked against the records the agent stored; a record that closes
/// after its interval's statement comes in a correcting statement.
/// </summary>
public sealed class StatementTests : IAsyncLifetime
{
    private const string ReadToken = "clearing-house-read-token-for-tests";
    private readonly TempFolder _folder = new("meteragent-statements-");
    private NoteKeyPair _key = null!;
    private ClearingHouse _house = null!;
    private TestAgent _agent = null!;
    private HttpClient _clearing = null!;

    public async Task InitializeAsync()
    {
        _key = NoteKeyPair.Generate("meteragent.test/log");
        _house = ClearingHouse.Create(settlementInterval: "00:00:02");
        _agent = await TestAgent.StartAsync(settings: _house.AgentSettings(
            ("Attestation:SigningKeyPath", _folder.Write("log.skey", _key.SignerKey)),
            ("Attestation:ReadToken", ReadToken),
            ("Attestation:StatementGrace", "00:00:01")));
        await ClearingHouse.DeliverAsync(_agent.Admin, _house.Notice(_agent.AccountId, 100_000m));
        _clearing = new HttpClient { BaseAddress = new Uri(_agent.ManagementUrl) };
        _clearing.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", ReadToken);
    }

    public async Task DisposeAsync()
    {
        _clearing.Dispose();
        await _agent.DisposeAsync();
        _house.Dispose();
        _folder.Dispose();
    }

    private async Task<string> ChatAsync(bool stream = false, int ttftMs = 0, string? key = null)
    {
        using var request = _agent.OpenAIRequest("v1/chat/completions",
            $$"""{"model":"emu-chat","stream":{{(stream ? "true" : "false")}},"max_tokens":8,"messages":[{"role":"user","content":"count me"}]}""", key);
        if (ttftMs > 0)
        {
            request.Headers.Add("x-emulator-ttft-ms", ttftMs.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        using var response = await _agent.Http.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await _agent.RecordForAsync(response)).Id;
    }

    private async Task<List<JsonElement>> ListAsync()
    {
        var all = new List<JsonElement>();
        long since = 0;
        while (true)
        {
            using var page = JsonDocument.Parse(await _clearing.GetStringAsync($"log/statements?since={since}&limit=2"));
            var items = page.RootElement.GetProperty("statements").EnumerateArray().Select(e => e.Clone()).ToList();
            if (items.Count == 0)
            {
                Assert.Equal(JsonValueKind.Null, page.RootElement.GetProperty("next").ValueKind);
                return all;
            }

            all.AddRange(items);
            since = page.RootElement.GetProperty("next").GetInt64();
        }
    }

    [Fact]
    public async Task Interval_statements_count_every_credited_record_once_and_a_late_one_in_a_correction()
    {
        var quick = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            quick.Add(await ChatAsync());
        }

        // Another account's traffic under the same contract: in the same statements, never in this account's view.
        var other = await _agent.Accounts.CreateAccountAsync("other");
        var otherKey = (await _agent.Accounts.IssueKeyAsync(other.Id))!.Secret;
        await ClearingHouse.DeliverAsync(_agent.Admin, _house.Notice(other.Id, 100_000m, "dlv-other"));
        var otherRecord = await ChatAsync(key: otherKey);

        // Starts now and closes about six seconds later: after its two-second interval's statement (end + 1 s grace).
        var late = Task.Run(() => ChatAsync(stream: true, ttftMs: 6000));
        var lateId = await late;

        var listed = await Eventually.ThatAsync(ListAsync, l => l.Any(s => s.GetProperty("amends").ValueKind == JsonValueKind.Number),
            "a correcting statement is published");

        // Every statement opens with the published key, and the chain holds.
        var verifier = NoteVerifier.Parse(_key.VerifierKey);
        byte[]? previous = null;
        var statements = new List<UsageStatement>();
        for (var i = 0; i < listed.Count; i++)
        {
            Assert.Equal(i + 1, listed[i].GetProperty("sequence").GetInt64());
            var envelope = await _clearing.GetByteArrayAsync($"log/statements/{i + 1}");
            Assert.Equal(listed[i].GetProperty("digest").GetString(), Convert.ToHexStringLower(SHA256.HashData(envelope)));
            var (statement, failure) = StatementEnvelope.Open(envelope, verifier);
            Assert.True(statement is not null, failure);
            Assert.Equal(previous, statement.PreviousDigest);
            Assert.Equal(ClearingHouse.ContractId, statement.ContractId);
            previous = SHA256.HashData(envelope);
            statements.Add(statement);
        }

        // An independent DSSE check (node's built-in crypto only) accepts what the agent served.
        Prerequisite.Require(AttestationCheck.NodeIsAvailable(), "node is not on PATH: the independent DSSE check needs it.");
        var served = _folder.Write("statement-1.json", await _clearing.GetStringAsync("log/statements/1"));
        var independent = AttestationCheck.Run("verify-dsse.mjs", _key.VerifierKey, served);
        Assert.True(independent.ExitCode == 0, independent.Output);
        Assert.Contains($"ok: statement 1 of contract {ClearingHouse.ContractId}", independent.Output, StringComparison.Ordinal);

        // Each credited record is in exactly one statement, of the interval holding its start.
        var entries = await _agent.Services.GetRequiredService<IUsageLog>().ReadAsync(0, 1000);
        var leafOf = entries.Select((bytes, index) => (UsageEntryEncoding.Decode(bytes).UsageId, Index: (long)index)).ToDictionary(e => e.UsageId, e => e.Index);
        foreach (var id in quick.Append(lateId))
        {
            var record = await _agent.RecordAsync(id);
            var counting = statements.Where(s => s.Leaves.Contains(leafOf[id])).ToList();
            var statement = Assert.Single(counting);
            Assert.InRange(record.StartedAt, statement.IntervalStart, statement.IntervalEnd.AddTicks(-1));
            Assert.True(leafOf[id] < statement.TreeSize);
        }

        // The late record came in a correction that names the interval's earlier statement.
        var correction = statements.Single(s => s.Leaves.Contains(leafOf[lateId]));
        Assert.NotNull(correction.Amends);
        var amended = statements.Single(s => s.Sequence == correction.Amends);
        Assert.Equal((amended.ContractId, amended.IntervalStart), (correction.ContractId, correction.IntervalStart));
        Assert.DoesNotContain(leafOf[lateId], amended.Leaves);

        // The sums are the stored records' own numbers.
        var records = await Task.WhenAll(quick.Append(lateId).Select(_agent.RecordAsync));
        var account = statements.SelectMany(s => s.Accounts).Where(a => a.AccountId == _agent.AccountId).ToList();
        Assert.Equal(records.Length, account.Sum(a => a.Records));
        Assert.Equal(records.Sum(r => r.ReferenceOutputTokens), account.Sum(a => a.ReferenceOutputTokens));
        Assert.Equal(records.Sum(r => r.NativeOutputTokens ?? 0), account.Sum(a => a.NativeOutputTokens));
        Assert.Equal(records.Sum(r => r.UnitsMicro ?? 0), account.Sum(a => a.UnitsMicro));
        Assert.Equal(records.Sum(r => r.RedeemedMicro), account.Sum(a => a.RedeemedMicro));
        Assert.True(account.Sum(a => a.RedeemedMicro) > 0);
        Assert.Contains(statements.SelectMany(s => s.Accounts), a => a.AccountId == other.Id);

        // meteragent verify, pointed at the management port with the published key, checks it all: tree, chain, sums.
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var exit = await MeterAgent.Verify.MeterAgentTool.RunAsync(
            ["verify", "--log", _agent.ManagementUrl.TrimEnd('/'), "--key", _key.VerifierKey, "--token", ReadToken], stdout, stderr);
        Assert.True(exit == 0, stderr.ToString());
        Assert.Matches(@"^verified meteragent\.test/log: size \d+, .* \d+ statements \(1 contracts, 5 leaves counted once", stdout.ToString());

        // The account fetches, with its own key, its late record's proof and the statement that counted it: its own row.
        var proof = await AccountProofAsync(lateId, _agent.ClientKey);
        var counted = Assert.Single(proof.GetProperty("statements").EnumerateArray());
        Assert.Equal(correction.Sequence, counted.GetProperty("sequence").GetInt64());
        Assert.Equal(correction.Amends, counted.GetProperty("amends").GetInt64());
        Assert.Equal(_agent.AccountId, counted.GetProperty("totals").GetProperty("account_id").GetString());
        Assert.Equal(correction.Accounts.Single(a => a.AccountId == _agent.AccountId).UnitsMicro,
            counted.GetProperty("totals").GetProperty("units_micro").GetInt64());
        Assert.DoesNotContain(other.Id, proof.GetRawText(), StringComparison.Ordinal);

        // The other account's record is not this account's to prove, and the other account sees only its own row.
        using (var request = new HttpRequestMessage(HttpMethod.Get, $"v1/meteragent/log/proof/{otherRecord}"))
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", _agent.ClientKey);
            using var response = await _agent.Http.SendAsync(request);
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        }

        var otherProof = await AccountProofAsync(otherRecord, otherKey);
        Assert.Equal(other.Id, Assert.Single(otherProof.GetProperty("statements").EnumerateArray()).GetProperty("totals").GetProperty("account_id").GetString());
        Assert.DoesNotContain(_agent.AccountId, otherProof.GetRawText(), StringComparison.Ordinal);
    }

    private async Task<JsonElement> AccountProofAsync(string usageId, string key)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"v1/meteragent/log/proof/{usageId}");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        using var response = await _agent.Http.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();
    }

    [Fact]
    public async Task Statements_need_the_clearing_houses_token_and_say_what_is_wrong()
    {
        using var anonymous = new HttpClient { BaseAddress = new Uri(_agent.ManagementUrl) };
        using var none = await anonymous.GetAsync("log/statements");
        Assert.Equal(HttpStatusCode.Unauthorized, none.StatusCode);
        using var one = await anonymous.GetAsync("log/statements/1");
        Assert.Equal(HttpStatusCode.Unauthorized, one.StatusCode);

        using var badLimit = await _clearing.GetAsync("log/statements?limit=0");
        Assert.Equal(HttpStatusCode.BadRequest, badLimit.StatusCode);
        using var missing = await _clearing.GetAsync("log/statements/999999");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);

        // The proxy port does not serve them.
        using var proxied = await _agent.Http.GetAsync("log/statements");
        Assert.Equal(HttpStatusCode.NotFound, proxied.StatusCode);
    }
}
