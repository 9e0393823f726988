using System.Diagnostics;
using System.Text;
using MeterAgent.Attestation.Checkpoints;
using MeterAgent.Attestation.Merkle;
using MeterAgent.Attestation.Notes;
using MeterAgent.Attestation.Witnesses;
using MeterAgent.Log;
using MeterAgent.Log.Witnesses;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace MeterAgent.IntegrationTests.Witnesses;

/// <summary>
/// The agent's witness client (as the agent registers it, with its IHttpClientFactory) against two real witnesses run
/// by the tool: cosignatures that verify, proofs from the size each witness last cosigned, the 409 retry after a
/// restart, a witness that is down skipped, a fork refused, and a witness whose key is not the configured one ignored.
/// </summary>
public sealed class WitnessClientTests : IAsyncLifetime
{
    private readonly NoteSigner _logKey = NoteSigner.Parse(NoteKeyPair.Generate("meteragent.test/log").SignerKey);
    private readonly TreeProver _log = new();
    private RunningWitness _w1 = null!;
    private RunningWitness _w2 = null!;
    private TestAgent _agent = null!;

    public async Task InitializeAsync()
    {
        _w1 = await RunningWitness.StartAsync("witness.test/w1", _logKey.Verifier.VerifierKey);
        _w2 = await RunningWitness.StartAsync("witness.test/w2", _logKey.Verifier.VerifierKey);
        // The agent's own log stays unsigned (no checkpoint of its own to publish): the tests drive its client alone.
        _agent = await TestAgent.StartAsync(settings: new Dictionary<string, string?>
        {
            ["Attestation:Witnesses:0:Url"] = _w1.Url,
            ["Attestation:Witnesses:0:VerifierKey"] = _w1.VerifierKey,
            ["Attestation:Witnesses:1:Url"] = _w2.Url + "/",
            ["Attestation:Witnesses:1:VerifierKey"] = _w2.VerifierKey,
            ["Attestation:WitnessTimeout"] = "00:00:03",
        });
    }

    public async Task DisposeAsync()
    {
        await _agent.DisposeAsync();
        await _w1.DisposeAsync();
        await _w2.DisposeAsync();
    }

    private ICheckpointWitnesses AgentsClient => _agent.Services.GetRequiredService<ICheckpointWitnesses>();

    /// <summary>A client as a restarted agent has it: knowing no witness's size.</summary>
    private WitnessClient FreshClient(IEnumerable<(string Url, string Key)>? witnesses = null)
    {
        var options = new WitnessOptions { WitnessTimeout = TimeSpan.FromSeconds(3) };
        foreach (var (url, key) in witnesses ?? [(_w1.Url, _w1.VerifierKey), (_w2.Url, _w2.VerifierKey)])
        {
            options.Witnesses.Add(new WitnessEndpoint { Url = url, VerifierKey = key });
        }

        return new WitnessClient(_agent.Services.GetRequiredService<IHttpClientFactory>(), Options.Create(options), NullLogger<WitnessClient>.Instance);
    }

    private async Task<IReadOnlyList<string>> CosignAsync(ICheckpointWitnesses client, long size, TreeProver? log = null)
    {
        log ??= _log;
        log.Grow(size);
        return await client.CosignAsync(log.Note(_logKey, size), size, log, CancellationToken.None);
    }

    /// <summary>The witnesses whose cosignatures in <paramref name="lines"/> verify on the checkpoint of <paramref name="size"/>.</summary>
    private string[] Cosigners(IReadOnlyList<string> lines, long size, TreeProver? log = null)
    {
        var note = SignedNote.Parse(Encoding.UTF8.GetBytes((log ?? _log).Note(_logKey, size) + string.Concat(lines)));
        var witnesses = new NoteVerifiers(CosignatureV1.ParseVerifier(_w1.VerifierKey), CosignatureV1.ParseVerifier(_w2.VerifierKey));
        return [.. CosignatureV1.VerifyAll(note, witnesses).Select(c => c.Witness.Name).Order(StringComparer.Ordinal)];
    }

    [Fact]
    public async Task Each_witness_cosigns_each_growth_with_a_proof_from_the_size_it_last_cosigned()
    {
        Assert.IsType<WitnessClient>(AgentsClient);

        foreach (var size in new long[] { 5, 9, 9, 30 })
        {
            var lines = await CosignAsync(AgentsClient, size);

            Assert.Equal(["witness.test/w1", "witness.test/w2"], Cosigners(lines, size));
            Assert.All(lines, line => Assert.Matches("^\u2014 witness\\.test/w[12] [A-Za-z0-9+/=]+\n$", line));
        }

        // No proof from 0 or to the same size; one from each size the witnesses last cosigned.
        Assert.Equal([(5L, 9L), (9L, 30L)], _log.Proved.Distinct());
    }

    [Fact]
    public async Task After_a_restart_the_client_learns_each_witnesss_size_from_its_409_and_retries_once()
    {
        await CosignAsync(AgentsClient, 7);

        var lines = await CosignAsync(FreshClient(), 12);

        Assert.Equal(["witness.test/w1", "witness.test/w2"], Cosigners(lines, 12));
        Assert.Contains((7L, 12L), _log.Proved);
    }

    [Fact]
    public async Task A_witness_that_is_down_is_skipped_within_the_timeout()
    {
        await CosignAsync(AgentsClient, 4);
        await _w2.StopAsync();

        var clock = Stopwatch.StartNew();
        var lines = await CosignAsync(AgentsClient, 6);

        Assert.Equal(["witness.test/w1"], Cosigners(lines, 6));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"took {clock.Elapsed}");

        // Back up, it is asked again and catches up from the size it last cosigned.
        await _w2.StartAsync();
        Assert.Equal(["witness.test/w1", "witness.test/w2"], Cosigners(await CosignAsync(AgentsClient, 8), 8));
    }

    [Fact]
    public async Task A_forked_history_gets_no_cosignature()
    {
        await CosignAsync(AgentsClient, 10);

        // The same key signing another history of the same size, and of a larger size.
        var fork = new TreeProver("forked");
        Assert.Empty(await CosignAsync(FreshClient(), 10, fork));
        Assert.Empty(await CosignAsync(FreshClient(), 16, fork));

        // The witnesses still hold the honest history.
        Assert.Equal(["witness.test/w1", "witness.test/w2"], Cosigners(await CosignAsync(AgentsClient, 11), 11));
    }

    [Fact]
    public async Task A_cosignature_by_a_key_other_than_the_configured_one_is_not_used()
    {
        var impostorKey = CosignatureV1.GenerateKey("witness.test/w1").VerifierKey;
        var client = FreshClient([(_w1.Url, impostorKey), (_w2.Url, _w2.VerifierKey)]);

        var lines = await CosignAsync(client, 3);

        Assert.Equal(["witness.test/w2"], Cosigners(lines, 3));
        Assert.Single(lines);
    }

    /// <summary>A log's tree (entries "&lt;prefix&gt; 0", ...) as the agent's IConsistencyProver, recording what it proved.</summary>
    private sealed class TreeProver(string prefix = "entry") : IConsistencyProver
    {
        private readonly MerkleLog _tree = new(new InMemoryHashStore());

        public List<(long From, long To)> Proved { get; } = [];

        public void Grow(long size)
        {
            while (_tree.Size < size)
            {
                _tree.Append(Encoding.UTF8.GetBytes($"{prefix} {_tree.Size}"));
            }
        }

        public string Note(NoteSigner key, long size)
        {
            var root = new byte[32];
            _tree.RootHash(size, root);
            return SignedNote.Sign(new Checkpoint(key.Name, size, root).Format(), key).ToString();
        }

        public Task<IReadOnlyList<byte[]>> ProveAsync(long fromSize, long toSize, CancellationToken cancellationToken)
        {
            lock (Proved)
            {
                Proved.Add((fromSize, toSize));
            }

            return Task.FromResult<IReadOnlyList<byte[]>>([.. _tree.ConsistencyProof(fromSize, toSize).Chunk(32)]);
        }
    }
}
