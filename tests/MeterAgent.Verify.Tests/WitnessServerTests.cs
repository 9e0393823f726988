using System.Net;
using System.Security.Cryptography;
using System.Text;
using MeterAgent.Attestation.Notes;
using MeterAgent.Attestation.Witnesses;

namespace MeterAgent.Verify.Tests;

/// <summary>
/// Two witnesses as <c>meteragent witness</c> runs them (real Kestrel on loopback ports), spoken to over HTTP as
/// c2sp.org/tlog-witness says, and their cosignatures counted by <c>meteragent verify</c>'s k-of-n policy.
/// </summary>
public sealed class WitnessServerTests : IAsyncLifetime
{
    private readonly TempFolder _folder = new("meteragent-witnessed-");
    private readonly LogFixture _log = LogFixture.Standard();
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(30) };
    private RunningWitness _w1 = null!;
    private RunningWitness _w2 = null!;

    public async Task InitializeAsync()
    {
        _w1 = await RunningWitness.StartAsync("witness.test/w1", _log.VerifierKey);
        _w2 = await RunningWitness.StartAsync("witness.test/w2", _log.VerifierKey);
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _w1.DisposeAsync();
        await _w2.DisposeAsync();
        _folder.Dispose();
    }

    private async Task<(HttpStatusCode Status, string ContentType, string Body)> AddAsync(RunningWitness witness, long oldSize, byte[] note, IReadOnlyList<byte[]>? proof = null)
    {
        using var content = new ByteArrayContent(new AddCheckpointRequest(oldSize, proof ?? [], note).Format());
        using var response = await _http.PostAsync(new Uri(witness.Url + "/add-checkpoint"), content);
        return (response.StatusCode, response.Content.Headers.ContentType?.MediaType ?? string.Empty, await response.Content.ReadAsStringAsync());
    }

    private byte[] Forked(long size) => LogFixture.CheckpointNote(_log.Key, size, [.. Enumerable.Repeat((byte)0x5a, 32)]);

    [Fact]
    public async Task A_witness_cosigns_a_checkpoint_with_a_cosignature_that_verifies_with_its_key()
    {
        var (status, _, body) = await AddAsync(_w1, 0, _log.CheckpointNote(8));

        Assert.Equal(HttpStatusCode.OK, status);
        var text = SignedNote.Parse(_log.CheckpointNote(8)).Text;
        var line = Assert.Single(CosignatureV1.ParseLines(text, Encoding.UTF8.GetBytes(body)));
        Assert.Equal(CosignatureCheck.Valid, CosignatureV1.Verify(CosignatureV1.ParseVerifier(_w1.VerifierKey), text, line, out var timestamp));
        Assert.InRange(DateTimeOffset.FromUnixTimeSeconds(timestamp), DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddMinutes(5));
    }

    [Fact]
    public async Task A_forked_checkpoint_signed_with_the_log_key_is_refused_by_each_witness()
    {
        foreach (var witness in new[] { _w1, _w2 })
        {
            Assert.Equal(HttpStatusCode.OK, (await AddAsync(witness, 0, _log.CheckpointNote(8))).Status);

            // Same size, another root: refused outright, and a client that pretends to know nothing is told the size.
            var forked = await AddAsync(witness, 8, Forked(8));
            var fresh = await AddAsync(witness, 0, Forked(8));

            Assert.Equal(HttpStatusCode.UnprocessableEntity, forked.Status);
            Assert.Contains("forked", forked.Body, StringComparison.Ordinal);
            Assert.Equal(HttpStatusCode.Conflict, fresh.Status);
            Assert.Equal("text/x.tlog.size", fresh.ContentType);
            Assert.Equal("8\n", fresh.Body);
        }
    }

    [Fact]
    public async Task An_inconsistent_larger_tree_is_refused_and_a_consistent_one_cosigned()
    {
        Assert.Equal(HttpStatusCode.OK, (await AddAsync(_w1, 0, _log.CheckpointNote(8))).Status);
        var proof = ProofFrom8To14();

        Assert.Equal(HttpStatusCode.UnprocessableEntity, (await AddAsync(_w1, 8, Forked(14), proof)).Status);
        Assert.Equal(HttpStatusCode.OK, (await AddAsync(_w1, 8, _log.CheckpointNote(14), proof)).Status);
    }

    [Fact]
    public async Task Foreign_keys_unknown_logs_and_garbage_get_the_specs_statuses()
    {
        var impostor = NoteSigner.Parse(NoteKeyPair.Generate(LogFixture.Origin).SignerKey);
        var otherLog = NoteSigner.Parse(NoteKeyPair.Generate("other.test/log").SignerKey);
        using var garbage = new ByteArrayContent("hello"u8.ToArray());

        Assert.Equal(HttpStatusCode.Forbidden, (await AddAsync(_w1, 0, LogFixture.CheckpointNote(impostor, 8, _log.Root(8)))).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await AddAsync(_w1, 0, SignedNote.Sign("other.test/log\n1\n" + Convert.ToBase64String(new byte[32]) + "\n", otherLog).Encode())).Status);
        Assert.Equal(HttpStatusCode.BadRequest, (await _http.PostAsync(new Uri(_w1.Url + "/add-checkpoint"), garbage)).StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, (await AddAsync(_w1, 3, _log.CheckpointNote(8))).Status);
    }

    [Fact]
    public async Task A_restarted_witness_remembers_what_it_cosigned_and_serves_it_to_monitors()
    {
        Assert.Equal(HttpStatusCode.OK, (await AddAsync(_w1, 0, _log.CheckpointNote(8))).Status);

        await _w1.StopAsync();
        await _w1.StartAsync();

        var stale = await AddAsync(_w1, 0, _log.CheckpointNote(14));
        Assert.Equal(HttpStatusCode.Conflict, stale.Status);
        Assert.Equal("8\n", stale.Body);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, (await AddAsync(_w1, 8, Forked(8))).Status);

        // The monitoring read: GET <prefix>/<sha256(origin) hex>/checkpoint, with the log's signature and the cosignature.
        var originHash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(LogFixture.Origin)));
        var served = await _http.GetByteArrayAsync(new Uri($"{_w1.Url}/{originHash}/checkpoint"));
        var note = SignedNote.Parse(served);
        SignedNote.Open(served, new NoteVerifiers(_log.Key.Verifier));
        Assert.Single(CosignatureV1.VerifyAll(note, new NoteVerifiers(CosignatureV1.ParseVerifier(_w1.VerifierKey))));
        Assert.Equal(HttpStatusCode.NotFound, (await _http.GetAsync(new Uri($"{_w1.Url}/{new string('0', 64)}/checkpoint"))).StatusCode);
    }

    [Fact]
    public async Task Verify_counts_the_witnesses_cosignatures_against_its_quorum()
    {
        var directory = _folder.File("copy");
        _log.WriteTo(directory);
        var note = _log.CheckpointNote();
        var lines = new StringBuilder();
        foreach (var witness in new[] { _w1, _w2 })
        {
            var (status, _, body) = await AddAsync(witness, 0, note);
            Assert.Equal(HttpStatusCode.OK, status);
            lines.Append(body);
        }

        LogFixture.Write(directory, "log/checkpoint", [.. note, .. Encoding.UTF8.GetBytes(lines.ToString())]);
        string[] args = ["--log", directory, "--key", _log.VerifierKey, "--witness", _w1.VerifierKey, "--witness", _w2.VerifierKey];
        var third = CosignatureV1.GenerateKey("witness.test/w3").VerifierKey;

        var two = await VerifyRun.RunAsync([.. args, "--quorum", "2"]);
        var threeOfTwo = await VerifyRun.RunAsync([.. args, "--quorum", "3"]);
        var threeOfThree = await VerifyRun.RunAsync([.. args, "--witness", third, "--quorum", "3"]);
        var twoOfThree = await VerifyRun.RunAsync([.. args, "--witness", third, "--quorum", "2"]);
        var sameTwice = await VerifyRun.RunAsync("--log", directory, "--key", _log.VerifierKey, "--witness", _w1.VerifierKey, "--witness", _w1.VerifierKey, "--quorum", "2");

        Assert.Contains("cosigned by 2 of 2 witnesses (quorum 2)", two.Passed(), StringComparison.Ordinal);
        Assert.Equal(2, threeOfTwo.Exit);
        Assert.Contains("--quorum 3 must be a number from 1 to the 2 witnesses given", threeOfTwo.Stderr, StringComparison.Ordinal);
        threeOfThree.Failed("the checkpoint is cosigned by 2 of the 3 witnesses (witness.test/w1, witness.test/w2); the quorum is 3");
        Assert.Contains("cosigned by 2 of 3 witnesses (quorum 2)", twoOfThree.Passed(), StringComparison.Ordinal);
        Assert.Equal(2, sameTwice.Exit);
    }

    [Fact]
    public async Task Verify_refuses_a_cosignature_that_does_not_verify()
    {
        var directory = _folder.File("copy");
        _log.WriteTo(directory);
        var (_, _, line) = await AddAsync(_w1, 0, _log.CheckpointNote(8));

        // A genuine cosignature, but of another checkpoint (size 8), pasted under the size-14 one.
        LogFixture.Write(directory, "log/checkpoint", [.. _log.CheckpointNote(), .. Encoding.UTF8.GetBytes(line)]);

        (await VerifyRun.RunAsync("--log", directory, "--key", _log.VerifierKey, "--witness", _w1.VerifierKey, "--quorum", "1"))
            .Failed("the checkpoint's witness cosignatures: The cosignature by witness witness.test/w1");
    }

    private List<byte[]> ProofFrom8To14()
    {
        var tree = new Attestation.Merkle.MerkleLog(new Attestation.Merkle.InMemoryHashStore());
        foreach (var entry in _log.Entries)
        {
            tree.Append(Attestation.Entries.UsageEntryEncoding.Encode(entry));
        }

        return [.. tree.ConsistencyProof(8, 14).Chunk(32)];
    }
}
