using System.Collections.Concurrent;
using System.Text;
using MeterAgent.Attestation.Checkpoints;
using MeterAgent.Attestation.Merkle;
using MeterAgent.Attestation.Notes;
using MeterAgent.Log;
using Microsoft.Extensions.DependencyInjection;

namespace MeterAgent.IntegrationTests;

/// <summary>
/// The publisher as a witness sees it: checkpoints offered one at a time, each larger than the last and provably
/// consistent with it, and the witness's cosignature served with the log's signature.
/// </summary>
public sealed class CheckpointPublishingTests
{
    [Fact]
    public async Task Concurrent_publications_reach_the_witness_in_growing_consistent_sizes_and_carry_its_cosignature()
    {
        using var folder = new TempFolder("meteragent-publish-");
        var key = NoteKeyPair.Generate(UsageLogClient.Origin);
        var witness = new CheckingWitness(NoteSigner.Parse(NoteKeyPair.Generate("witness.test/w1").SignerKey));
        await using var agent = await TestAgent.StartAsync(
            settings: UsageLogClient.Settings(folder, key, ("Attestation:CheckpointInterval", "00:00:00.05")),
            services: services => services.AddSingleton<ICheckpointWitnesses>(witness));
        using var log = new UsageLogClient(agent, key);
        var publisher = agent.Services.GetRequiredService<CheckpointPublisher>();

        // Records, proofs asked for (on-demand publications) and direct publications, all at once, with the schedule.
        var traffic = Enumerable.Range(0, 4).Select(async _ =>
        {
            foreach (var id in await log.MakeRecordsAsync(10))
            {
                await log.InclusionAsync(id);
            }
        });
        var direct = Enumerable.Range(0, 4).Select(async _ =>
        {
            for (var i = 0; i < 20; i++)
            {
                await publisher.PublishAsync(long.MaxValue, CancellationToken.None);
            }
        });
        await Task.WhenAll(traffic.Concat(direct));
        var final = await publisher.PublishAsync(long.MaxValue, CancellationToken.None);

        Assert.Equal(40, final.Size);
        Assert.Empty(witness.Faults);
        var sizes = witness.Sizes.ToList();
        Assert.True(sizes.Count > 1, $"only {sizes.Count} publication(s)");
        Assert.True(sizes.Zip(sizes.Skip(1)).All(pair => pair.Second > pair.First), $"sizes offered: {string.Join(", ", sizes)}");
        Assert.Equal(40, sizes[^1]);

        // The served note is the log's checkpoint with the witness's line: both signatures verify.
        var (_, note) = await log.CheckpointAsync();
        Assert.Equal(final.Note, note);
        var opened = SignedNote.Open(Encoding.UTF8.GetBytes(note), new NoteVerifiers(NoteVerifier.Parse(key.VerifierKey), witness.Signer.Verifier));
        Assert.Equal(2, opened.VerifiedSignatures.Count);
        Assert.Equal(40, Checkpoint.Parse(opened.Text).TreeSize);
    }

    [Fact]
    public async Task A_malformed_cosignature_is_left_out_rather_than_spoiling_the_checkpoint()
    {
        using var folder = new TempFolder("meteragent-publish-");
        var key = NoteKeyPair.Generate(UsageLogClient.Origin);
        await using var agent = await TestAgent.StartAsync(
            settings: UsageLogClient.Settings(folder, key),
            services: services => services.AddSingleton<ICheckpointWitnesses>(new BrokenWitness()));
        using var log = new UsageLogClient(agent, key);
        foreach (var id in await log.MakeRecordsAsync(2))
        {
            // Each proof publishes the checkpoint its record needs, each time offered to the broken witness.
            await log.InclusionAsync(id);
        }

        var (checkpoint, note) = await log.CheckpointAsync();
        Assert.Equal(2, checkpoint.TreeSize);
        Assert.Single(SignedNote.Parse(Encoding.UTF8.GetBytes(note)).Signatures);
    }

    [Theory]
    [InlineData("00:00:00")]
    [InlineData("-00:00:01")]
    [InlineData("02:00:00")]
    public async Task A_checkpoint_interval_out_of_range_stops_start_up_naming_it(string interval)
    {
        using var folder = new TempFolder("meteragent-publish-");

        var error = await Assert.ThrowsAsync<Microsoft.Extensions.Options.OptionsValidationException>(() => TestAgent.StartAsync(
            settings: UsageLogClient.Settings(folder, NoteKeyPair.Generate(UsageLogClient.Origin), ("Attestation:CheckpointInterval", interval))));

        Assert.Contains("Attestation:CheckpointInterval", error.Message, StringComparison.Ordinal);
    }

    /// <summary>
    /// Does what a C2SP witness does with a checkpoint before cosigning it: checks the log's signature, that the size
    /// never goes back, and the consistency proof from the last size it cosigned. It signs with a note key of its own.
    /// </summary>
    private sealed class CheckingWitness(NoteSigner signer) : ICheckpointWitnesses
    {
        private readonly Lock _lock = new();
        private (long Size, byte[] Root)? _last;

        public NoteSigner Signer { get; } = signer;

        public ConcurrentQueue<long> Sizes { get; } = new();

        public ConcurrentQueue<string> Faults { get; } = new();

        public async Task<IReadOnlyList<string>> CosignAsync(string signedNote, long treeSize, IConsistencyProver prover, CancellationToken cancellationToken)
        {
            var checkpoint = Checkpoint.Parse(SignedNote.Parse(Encoding.UTF8.GetBytes(signedNote)).Text);
            (long Size, byte[] Root)? last;
            lock (_lock)
            {
                last = _last;
                _last = (treeSize, checkpoint.RootHash.ToArray());
            }

            Sizes.Enqueue(treeSize);
            if (checkpoint.TreeSize != treeSize)
            {
                Faults.Enqueue($"note of size {checkpoint.TreeSize} offered as {treeSize}");
            }

            if (last is { } previous)
            {
                var proof = await prover.ProveAsync(previous.Size, treeSize, cancellationToken);
                var result = ConsistencyProof.Verify(previous.Size, treeSize, previous.Root, checkpoint.RootHash, [.. proof.SelectMany(h => h)]);
                if (previous.Size >= treeSize || result != ProofResult.Valid)
                {
                    Faults.Enqueue($"{previous.Size} -> {treeSize}: {result}");
                }
            }

            var cosigned = SignedNote.Parse(Encoding.UTF8.GetBytes(signedNote)).AddSignatures(Signer);
            return [cosigned.Signatures[^1].ToLine()];
        }
    }

    private sealed class BrokenWitness : ICheckpointWitnesses
    {
        public Task<IReadOnlyList<string>> CosignAsync(string signedNote, long treeSize, IConsistencyProver prover, CancellationToken cancellationToken) =>
            Task.FromResult<IReadOnlyList<string>>(["— witness.test/w1 not-base64\n"]);
    }
}
