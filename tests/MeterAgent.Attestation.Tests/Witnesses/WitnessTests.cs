using System.Text;
using MeterAgent.Attestation.Merkle;
using MeterAgent.Attestation.Notes;
using MeterAgent.Attestation.Witnesses;
using Microsoft.Extensions.Time.Testing;

namespace MeterAgent.Attestation.Tests.Witnesses;

/// <summary>The witness's decisions (c2sp.org/tlog-witness, add-checkpoint), without HTTP.</summary>
public sealed class WitnessTests
{
    private static readonly DateTimeOffset Now = new(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);

    private readonly TestLog _log = new TestLog().Grow(20);
    private readonly NoteSigner _witnessKey = CosignatureV1.ParseSigner(CosignatureV1.GenerateKey("witness.test/w1").SignerKey);
    private readonly InMemoryWitnessState _state = new();
    private readonly Witness _witness;

    public WitnessTests() => _witness = NewWitness(_state);

    private Witness NewWitness(IWitnessState state) => new(_witnessKey, [_log.AsWitnessed()], state, new FakeTimeProvider(Now));

    private Task<AddCheckpointResult> AddAsync(byte[] body) => _witness.AddCheckpointAsync(body, CancellationToken.None);

    private async Task<AddCheckpointResult> CosignedAsync(long oldSize, long size)
    {
        var result = await AddAsync(_log.Request(oldSize, size));
        Assert.True(result.Status == WitnessStatus.Cosigned, $"{oldSize} -> {size}: {result.Status} {result.Detail}");
        return result;
    }

    [Fact]
    public async Task The_first_checkpoint_is_cosigned_with_a_timestamped_cosignature_that_verifies()
    {
        var result = await CosignedAsync(0, 5);

        var line = Assert.Single(result.Cosignatures);
        Assert.Equal(CosignatureCheck.Valid, CosignatureV1.Verify(_witnessKey.Verifier, _log.Checkpoint(5).Format(), line, out var timestamp));
        Assert.Equal(Now.ToUnixTimeSeconds(), timestamp);
        Assert.Equal(200, result.HttpStatus);
        Assert.Equal(line.ToLine(), Encoding.UTF8.GetString(result.Body()));
        Assert.Equal(5, (await _state.ReadAsync(_log.Origin, default))!.Checkpoint.TreeSize);
    }

    [Fact]
    public async Task A_larger_consistent_tree_is_cosigned_from_the_size_the_witness_knows()
    {
        await CosignedAsync(0, 5);
        await CosignedAsync(5, 12);
        await CosignedAsync(12, 12);
        await CosignedAsync(12, 20);

        // What a monitor reads: the log's signature and the witness's cosignature on the latest checkpoint.
        var latest = (await _witness.LatestAsync(_log.Origin, default))!;
        var note = SignedNote.Parse(Encoding.UTF8.GetBytes(latest.Note));
        Assert.Equal(20, latest.Checkpoint.TreeSize);
        SignedNote.Open(Encoding.UTF8.GetBytes(latest.Note), new NoteVerifiers(_log.Key.Verifier));
        Assert.Single(CosignatureV1.VerifyAll(note, new NoteVerifiers(_witnessKey.Verifier)));
    }

    [Fact]
    public async Task A_stale_old_size_is_answered_409_with_the_witnesss_size()
    {
        await CosignedAsync(0, 12);

        foreach (var oldSize in new long[] { 0, 5, 15 })
        {
            var result = await AddAsync(_log.Request(oldSize, 20));

            Assert.Equal(WitnessStatus.Conflict, result.Status);
            Assert.Equal(409, result.HttpStatus);
            Assert.Equal("text/x.tlog.size", result.ContentType);
            Assert.Equal("12\n", Encoding.ASCII.GetString(result.Body()));
            Assert.Equal(12, result.LatestSize);
        }

        Assert.Equal(12, (await _state.ReadAsync(_log.Origin, default))!.Checkpoint.TreeSize);
    }

    [Fact]
    public async Task A_witness_that_never_saw_the_log_answers_409_with_0_to_a_nonzero_old_size()
    {
        var result = await AddAsync(_log.Request(5, 12));

        Assert.Equal(WitnessStatus.Conflict, result.Status);
        Assert.Equal("0\n", Encoding.ASCII.GetString(result.Body()));
    }

    [Fact]
    public async Task A_forked_checkpoint_of_the_same_size_is_refused()
    {
        await CosignedAsync(0, 12);

        var forked = await AddAsync(new AddCheckpointRequest(12, [], _log.ForkedNote(12)).Format());

        Assert.Equal(WitnessStatus.Unprocessable, forked.Status);
        Assert.Contains("forked", forked.Detail, StringComparison.Ordinal);
        Assert.Empty(forked.Cosignatures);
        Assert.Equal(_log.Root(12), (await _state.ReadAsync(_log.Origin, default))!.Checkpoint.RootHash.ToArray());
    }

    [Fact]
    public async Task An_inconsistent_larger_tree_is_refused()
    {
        await CosignedAsync(0, 12);

        // Another history, signed by the log's key: entry 3 rewritten, grown to 20; its proof is honest about its own tree.
        var rewritten = new MerkleLog(new InMemoryHashStore());
        for (var i = 0; i < 20; i++)
        {
            rewritten.Append(Encoding.UTF8.GetBytes(i == 3 ? "rewritten" : $"entry {i}"));
        }

        var root = new byte[32];
        rewritten.RootHash(20, root);
        var proof = rewritten.ConsistencyProof(12, 20).Chunk(32).ToList();
        var result = await AddAsync(new AddCheckpointRequest(12, proof, _log.ForkedNote(20, root)).Format());

        Assert.Equal(WitnessStatus.Unprocessable, result.Status);
        Assert.Contains("does not verify", result.Detail, StringComparison.Ordinal);

        // And the honest proof does not rescue a root the log never had.
        var honest = await AddAsync(new AddCheckpointRequest(12, _log.Proof(12, 20), _log.ForkedNote(20, root)).Format());
        Assert.Equal(WitnessStatus.Unprocessable, honest.Status);
    }

    [Fact]
    public async Task A_checkpoint_not_signed_by_the_configured_log_key_is_refused()
    {
        var impostor = NoteSigner.Parse(NoteKeyPair.Generate(_log.Origin).SignerKey);

        var unsigned = await AddAsync(new AddCheckpointRequest(0, [], _log.Note(5, impostor)).Format());
        var tampered = Encoding.UTF8.GetString(_log.Note(5)).Replace("\n5\n", "\n6\n", StringComparison.Ordinal);
        var altered = await AddAsync(new AddCheckpointRequest(0, [], Encoding.UTF8.GetBytes(tampered)).Format());

        Assert.Equal(WitnessStatus.Forbidden, unsigned.Status);
        Assert.Equal(403, unsigned.HttpStatus);
        Assert.Equal(WitnessStatus.Forbidden, altered.Status);
        Assert.Null(await _state.ReadAsync(_log.Origin, default));
    }

    [Fact]
    public async Task An_unknown_origin_is_404()
    {
        var other = new TestLog("other.test/log").Grow(3);

        var result = await AddAsync(other.Request(0, 3));

        Assert.Equal(WitnessStatus.UnknownLog, result.Status);
        Assert.Equal(404, result.HttpStatus);
    }

    [Fact]
    public async Task Bad_proofs_and_bad_requests_are_refused()
    {
        var garbage = await AddAsync("hello"u8.ToArray());
        var notANote = await AddAsync("old 0\n\nnot a note\n"u8.ToArray());
        var oldAboveSize = await AddAsync(new AddCheckpointRequest(7, [], _log.Note(5)).Format());
        var proofFromZero = await AddAsync(new AddCheckpointRequest(0, _log.Proof(3, 5), _log.Note(5)).Format());
        var emptyTree = await AddAsync(new AddCheckpointRequest(0, [], _log.ForkedNote(0)).Format());

        Assert.Equal(WitnessStatus.BadRequest, garbage.Status);
        Assert.Equal(WitnessStatus.BadRequest, notANote.Status);
        Assert.Equal(WitnessStatus.BadRequest, oldAboveSize.Status);
        Assert.Equal(WitnessStatus.Unprocessable, proofFromZero.Status);
        Assert.Equal(WitnessStatus.Unprocessable, emptyTree.Status);

        await CosignedAsync(0, 5);
        var truncated = await AddAsync(new AddCheckpointRequest(5, _log.Proof(5, 12).Skip(1).ToList(), _log.Note(12)).Format());
        Assert.Equal(WitnessStatus.Unprocessable, truncated.Status);
        Assert.Contains("WrongProofLength", truncated.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Another_witness_over_the_same_state_remembers_the_latest_checkpoint()
    {
        await CosignedAsync(0, 12);

        var restarted = NewWitness(_state);
        var stale = await restarted.AddCheckpointAsync(_log.Request(0, 20), default);
        var fresh = await restarted.AddCheckpointAsync(_log.Request(12, 20), default);

        Assert.Equal(WitnessStatus.Conflict, stale.Status);
        Assert.Equal(WitnessStatus.Cosigned, fresh.Status);
    }

    [Fact]
    public async Task Concurrent_submissions_never_roll_the_recorded_size_back()
    {
        await CosignedAsync(0, 5);

        var results = await Task.WhenAll(Enumerable.Range(6, 15).Select(size => Task.Run(() => AddAsync(_log.Request(5, size)))));

        // Exactly one extends 5; every other finds the size moved and is told the new one.
        var cosigned = Assert.Single(results, r => r.Status == WitnessStatus.Cosigned);
        Assert.All(results.Where(r => r != cosigned), r => Assert.Equal(WitnessStatus.Conflict, r.Status));
        Assert.Equal(cosigned.TreeSize, (await _state.ReadAsync(_log.Origin, default))!.Checkpoint.TreeSize);
    }
}
