using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using MeterAgent.Attestation.Entries;
using MeterAgent.Attestation.Merkle;
using MeterAgent.Attestation.Notes;

namespace MeterAgent.IntegrationTests;

/// <summary>
/// Proofs by record id and between sizes, for the clearing house (management port, read token) and for an account
/// (client port, its own key), checked with the RFC 9162 verifiers against checkpoints verified with the log's key.
/// </summary>
public sealed class LogProofTests : IAsyncLifetime
{
    private readonly TempFolder _folder = new("meteragent-proofs-");
    private readonly NoteKeyPair _key = NoteKeyPair.Generate(UsageLogClient.Origin);
    private TestAgent _agent = null!;
    private UsageLogClient _log = null!;

    public async Task InitializeAsync()
    {
        // An hour between scheduled checkpoints: every newer checkpoint these tests see was published on demand.
        _agent = await TestAgent.StartAsync(settings: UsageLogClient.Settings(_folder, _key, ("Attestation:CheckpointInterval", "01:00:00")));
        _log = new UsageLogClient(_agent, _key);
    }

    public async Task DisposeAsync()
    {
        _log.Dispose();
        await _agent.DisposeAsync();
        _folder.Dispose();
    }

    [Fact]
    public async Task An_inclusion_proof_publishes_the_checkpoint_it_needs_and_verifies_against_it()
    {
        var ids = await _log.MakeRecordsAsync(3);

        var proof = await _log.InclusionAsync(ids[^1]);

        var checkpoint = _log.Open(proof.GetProperty("checkpoint").GetString()!);
        var index = proof.GetProperty("leaf_index").GetInt64();
        var size = proof.GetProperty("tree_size").GetInt64();
        var entry = UsageLogClient.Bytes(proof.GetProperty("entry"));
        Assert.Equal(ids[^1], proof.GetProperty("usage_id").GetString());
        Assert.Equal(ids[^1], UsageEntryEncoding.Decode(entry).UsageId);
        Assert.Equal(checkpoint.TreeSize, size);
        Assert.InRange(index, 0, size - 1);
        Assert.Equal(ProofResult.Valid, InclusionProof.Verify(index, size, LeafHash(entry), UsageLogClient.Hashes(proof), checkpoint.RootHash));

        // What was published for the proof is what the log now serves.
        var (served, note) = await _log.CheckpointAsync();
        Assert.Equal(checkpoint, served);
        Assert.Equal(proof.GetProperty("checkpoint").GetString(), note);
    }

    [Fact]
    public async Task Two_published_checkpoints_are_consistent_and_an_old_size_still_proves_inclusion()
    {
        var first = await _log.MakeRecordsAsync(2);
        await _log.InclusionAsync(first[1]);

        // Published once both entries are in the log (they are appended in the order the records closed).
        var older = _log.Open((await _log.InclusionAsync(first[0])).GetProperty("checkpoint").GetString()!);
        var second = await _log.MakeRecordsAsync(5);
        var newer = _log.Open((await _log.InclusionAsync(second[^1])).GetProperty("checkpoint").GetString()!);
        Assert.True(newer.TreeSize > older.TreeSize, $"{older.TreeSize} then {newer.TreeSize}");

        var consistency = await _log.Http.GetFromJsonAsync<JsonElement>($"log/proof/consistency?from={older.TreeSize}&to={newer.TreeSize}");

        Assert.Equal((older.TreeSize, newer.TreeSize), (consistency.GetProperty("from").GetInt64(), consistency.GetProperty("to").GetInt64()));
        Assert.Equal(ProofResult.Valid, ConsistencyProof.Verify(older.TreeSize, newer.TreeSize, older.RootHash, newer.RootHash, UsageLogClient.Hashes(consistency)));
        Assert.NotEqual(ProofResult.Valid, ConsistencyProof.Verify(older.TreeSize, newer.TreeSize, newer.RootHash, newer.RootHash, UsageLogClient.Hashes(consistency)));

        // At a size the caller names, the proof comes without a checkpoint: the caller holds that one already.
        var old = await _log.InclusionAsync(first[0], older.TreeSize);
        Assert.Equal(JsonValueKind.Null, old.GetProperty("checkpoint").ValueKind);
        Assert.Equal(older.TreeSize, old.GetProperty("tree_size").GetInt64());
        var entry = UsageLogClient.Bytes(old.GetProperty("entry"));
        Assert.Equal(ProofResult.Valid, InclusionProof.Verify(old.GetProperty("leaf_index").GetInt64(), older.TreeSize, LeafHash(entry), UsageLogClient.Hashes(old), older.RootHash));

        // Equal sizes: an empty proof.
        var same = await _log.Http.GetFromJsonAsync<JsonElement>($"log/proof/consistency?from={newer.TreeSize}&to={newer.TreeSize}");
        Assert.Equal(0, same.GetProperty("hashes").GetArrayLength());
    }

    [SkippableFact]
    public async Task Node_verifies_the_agents_proofs_from_the_RFC_and_refuses_them_altered()
    {
        Prerequisite.Require(AttestationCheck.NodeIsAvailable(), "node is not on PATH: the independent proof check needs it.");
        var first = await _log.MakeRecordsAsync(3);
        var olderProof = await _log.InclusionAsync(first[1]);
        var later = await _log.MakeRecordsAsync(4);
        var newerNote = (await _log.InclusionAsync(later[^1])).GetProperty("checkpoint").GetString()!;
        var older = _log.Open(olderProof.GetProperty("checkpoint").GetString()!);
        var newer = _log.Open(newerNote);

        var consistency = await _log.Http.GetStringAsync($"log/proof/consistency?from={older.TreeSize}&to={newer.TreeSize}");
        var olderPath = _folder.Write("older.note", olderProof.GetProperty("checkpoint").GetString()!);
        var newerPath = _folder.Write("newer.note", newerNote);
        var inclusionPath = _folder.Write("inclusion.json", olderProof.GetRawText());
        var consistencyPath = _folder.Write("consistency.json", consistency);

        foreach (var note in new[] { olderPath, newerPath })
        {
            var signed = AttestationCheck.Run("verify-note.mjs", _key.VerifierKey, note);
            Assert.True(signed.ExitCode == 0, $"node refused the checkpoint {note}: {signed.Output}");
        }

        var included = AttestationCheck.Run("verify-proof.mjs", "inclusion", olderPath, inclusionPath);
        var consistent = AttestationCheck.Run("verify-proof.mjs", "consistency", olderPath, newerPath, consistencyPath);
        Assert.True(included.ExitCode == 0, $"node refused the inclusion proof: {included.Output}");
        Assert.True(consistent.ExitCode == 0, $"node refused the consistency proof: {consistent.Output}");

        // Another record's entry under this path, and the checkpoints swapped: both refused.
        var other = await _log.InclusionAsync(later[0]);
        var forged = olderProof.GetRawText().Replace(
            olderProof.GetProperty("entry").GetString()!, other.GetProperty("entry").GetString()!, StringComparison.Ordinal);
        var wrongEntry = AttestationCheck.Run("verify-proof.mjs", "inclusion", olderPath, _folder.Write("forged.json", forged));
        var swapped = AttestationCheck.Run("verify-proof.mjs", "consistency", newerPath, olderPath, consistencyPath);
        Assert.True(wrongEntry.ExitCode == 1, $"node accepted another entry on the path ({wrongEntry.ExitCode}): {wrongEntry.Output}");
        Assert.True(swapped.ExitCode == 1, $"node accepted swapped checkpoints ({swapped.ExitCode}): {swapped.Output}");
    }

    [Fact]
    public async Task Bad_sizes_are_refused_with_400_and_an_unknown_record_with_404()
    {
        var ids = await _log.MakeRecordsAsync(2);
        var latest = _log.Open((await _log.InclusionAsync(ids[^1])).GetProperty("checkpoint").GetString()!);
        var leaf = (await _log.InclusionAsync(ids[^1])).GetProperty("leaf_index").GetInt64();
        var size = latest.TreeSize;

        string[] badRequests =
        [
            $"log/proof/consistency?from=0&to={size}",
            $"log/proof/consistency?from=2&to=1",
            $"log/proof/consistency?from=1&to={size + 1}",
            "log/proof/consistency?from=one&to=2",
            "log/proof/consistency?from=-1&to=2",
            "log/proof/consistency?to=2",
            "log/proof/consistency",
            $"log/proof/inclusion?usage_id={ids[^1]}&tree_size=0",
            $"log/proof/inclusion?usage_id={ids[^1]}&tree_size={size + 1}",
            $"log/proof/inclusion?usage_id={ids[^1]}&tree_size={leaf}",
            $"log/proof/inclusion?usage_id={ids[^1]}&tree_size=big",
            "log/proof/inclusion",
        ];
        foreach (var path in badRequests)
        {
            using var response = await _log.Http.GetAsync(path);
            Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{path}: {response.StatusCode}");
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            Assert.False(string.IsNullOrEmpty((await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString()));
        }

        using var unknown = await _log.Http.GetAsync("log/proof/inclusion?usage_id=usage_never_made");
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Equal("application/problem+json", unknown.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Proofs_need_the_clearing_houses_token_but_the_keys_do_not()
    {
        var ids = await _log.MakeRecordsAsync(1);
        await _log.InclusionAsync(ids[0]);
        using var anonymous = new HttpClient { BaseAddress = new Uri(_agent.ManagementUrl) };
        using var wrong = new HttpClient { BaseAddress = new Uri(_agent.ManagementUrl) };
        wrong.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", "not-the-read-token-at-all");

        foreach (var client in new[] { anonymous, wrong })
        {
            foreach (var path in new[] { $"log/proof/inclusion?usage_id={ids[0]}", "log/proof/consistency?from=1&to=1", "log/checkpoint" })
            {
                using var response = await client.GetAsync(path);
                Assert.True(response.StatusCode == HttpStatusCode.Unauthorized, $"{path}: {response.StatusCode}");
            }

            foreach (var path in new[] { "log/key", "log/keys" })
            {
                using var response = await client.GetAsync(path);
                Assert.True(response.StatusCode == HttpStatusCode.OK, $"{path}: {response.StatusCode}");
            }
        }
    }

    [Fact]
    public async Task An_account_gets_its_own_records_proof_and_nothing_of_another_account()
    {
        var mine = (await _log.MakeRecordsAsync(1))[0];
        var other = await _agent.Accounts.CreateAccountAsync("other");
        var otherKey = (await _agent.Accounts.IssueKeyAsync(other.Id))!.Secret;
        var theirs = (await _log.MakeRecordsAsync(1, otherKey))[0];
        await _log.InclusionAsync(theirs);

        var proof = await Eventually.ThatAsync(
            async () =>
            {
                using var response = await AccountAsync(mine, _agent.ClientKey);
                return response.IsSuccessStatusCode ? await response.Content.ReadFromJsonAsync<JsonElement>() : default;
            },
            json => json.ValueKind == JsonValueKind.Object,
            "the account's own proof");

        var checkpoint = _log.Open(proof.GetProperty("checkpoint").GetString()!);
        var entry = UsageLogClient.Bytes(proof.GetProperty("entry"));
        Assert.Equal(_agent.AccountId, UsageEntryEncoding.Decode(entry).AccountId);
        Assert.Equal(ProofResult.Valid, InclusionProof.Verify(
            proof.GetProperty("leaf_index").GetInt64(), checkpoint.TreeSize, LeafHash(entry), UsageLogClient.Hashes(proof), checkpoint.RootHash));

        // Another account's record reads exactly as a record that does not exist.
        using var another = await AccountAsync(theirs, _agent.ClientKey);
        using var none = await AccountAsync("usage_never_made", _agent.ClientKey);
        Assert.Equal(HttpStatusCode.NotFound, another.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, none.StatusCode);
        Assert.Equal(await none.Content.ReadAsStringAsync(), await another.Content.ReadAsStringAsync());

        // The other account does get its own.
        using var own = await AccountAsync(theirs, otherKey);
        Assert.Equal(HttpStatusCode.OK, own.StatusCode);

        using var noKey = await AccountAsync(mine, null);
        using var badKey = await AccountAsync(mine, "sk-not-a-key-of-this-agent");
        Assert.Equal(HttpStatusCode.Unauthorized, noKey.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, badKey.StatusCode);
    }

    private async Task<HttpResponseMessage> AccountAsync(string usageId, string? key)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"v1/meteragent/log/proof/{usageId}");
        if (key is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        }

        return await _agent.Http.SendAsync(request);
    }

    private static byte[] LeafHash(byte[] entry)
    {
        var leaf = new byte[32];
        MerkleHashing.HashLeaf(entry, leaf);
        return leaf;
    }
}
