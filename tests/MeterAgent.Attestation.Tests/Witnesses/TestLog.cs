using System.Text;
using MeterAgent.Attestation.Checkpoints;
using MeterAgent.Attestation.Merkle;
using MeterAgent.Attestation.Notes;
using MeterAgent.Attestation.Witnesses;

namespace MeterAgent.Attestation.Tests.Witnesses;

/// <summary>A log for witness tests: entries "entry 0", "entry 1", ..., its signed checkpoints and proofs.</summary>
internal sealed class TestLog
{
    private readonly MerkleLog _tree = new(new InMemoryHashStore());

    public TestLog(string origin = "meteragent.test/log", NoteSigner? key = null)
    {
        Key = key ?? NoteSigner.Parse(NoteKeyPair.Generate(origin).SignerKey);
    }

    public NoteSigner Key { get; }

    public string Origin => Key.Name;

    public long Size => _tree.Size;

    public TestLog Grow(long size)
    {
        while (_tree.Size < size)
        {
            _tree.Append(Encoding.UTF8.GetBytes($"entry {_tree.Size}"));
        }

        return this;
    }

    public byte[] Root(long size)
    {
        var root = new byte[32];
        _tree.RootHash(size, root);
        return root;
    }

    public Checkpoint Checkpoint(long size) => new(Origin, size, Root(size));

    /// <summary>The checkpoint of <paramref name="size"/> signed by the log's key (or by <paramref name="signer"/>).</summary>
    public byte[] Note(long size, NoteSigner? signer = null) => SignedNote.Sign(Checkpoint(size).Format(), signer ?? Key).Encode();

    /// <summary>A checkpoint signed with the log's key over a root it never had: a fork.</summary>
    public byte[] ForkedNote(long size, byte[]? root = null) =>
        SignedNote.Sign(new Checkpoint(Origin, size, root ?? Enumerable.Repeat((byte)0x42, 32).ToArray()).Format(), Key).Encode();

    public IReadOnlyList<byte[]> Proof(long from, long to) => [.. _tree.ConsistencyProof(from, to).Chunk(32)];

    public byte[] Request(long oldSize, long size) => new AddCheckpointRequest(oldSize, Proof(oldSize, size), Note(size)).Format();

    public WitnessedLog AsWitnessed() => new(Origin, [Key.Verifier]);
}
