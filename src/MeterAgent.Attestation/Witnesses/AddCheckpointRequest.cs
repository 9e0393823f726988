using System.Globalization;
using System.Text;
using MeterAgent.Attestation.Notes;

namespace MeterAgent.Attestation.Witnesses;

/// <summary>
/// The body of a c2sp.org/tlog-witness <c>add-checkpoint</c> request: <c>old &lt;size&gt;</c>, zero to 63 consistency
/// proof lines (base64 hashes) from that size, an empty line, then the checkpoint note. The note is kept as bytes: its
/// signatures are over those exact bytes, and it is read as a note only by whoever trusts the log's key.
/// </summary>
public sealed record AddCheckpointRequest
{
    /// <summary>The spec's cap; a proof between two sizes below 2^63 is at most 2·63 hashes, but never needs more than 63 here.</summary>
    public const int MaxProofLines = 63;

    private const string OldPrefix = "old ";

    public AddCheckpointRequest(long oldSize, IReadOnlyList<byte[]> proof, ReadOnlyMemory<byte> checkpoint)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(oldSize);
        ArgumentNullException.ThrowIfNull(proof);
        if (proof.Count > MaxProofLines)
        {
            throw new ArgumentException($"At most {MaxProofLines} proof lines, not {proof.Count}.", nameof(proof));
        }

        if (proof.Any(hash => hash is not { Length: Sha256Hash.Size }))
        {
            throw new ArgumentException($"Each proof line is one {Sha256Hash.Size}-byte hash.", nameof(proof));
        }

        OldSize = oldSize;
        Proof = proof;
        Checkpoint = checkpoint;
    }

    /// <summary>The size of the checkpoint the client believes the witness cosigned last (0 if none).</summary>
    public long OldSize { get; }

    /// <summary>RFC 6962 consistency proof from <see cref="OldSize"/> to the checkpoint's size, one hash per line.</summary>
    public IReadOnlyList<byte[]> Proof { get; }

    /// <summary>The signed checkpoint note, as bytes.</summary>
    public ReadOnlyMemory<byte> Checkpoint { get; }

    /// <summary>The proof as one concatenation of hashes, as <c>ConsistencyProof.Verify</c> takes it.</summary>
    public byte[] ConcatenatedProof() => [.. Proof.SelectMany(hash => hash)];

    public byte[] Format()
    {
        var head = new StringBuilder().Append(OldPrefix).Append(OldSize.ToString(CultureInfo.InvariantCulture)).Append('\n');
        foreach (var hash in Proof)
        {
            head.Append(Convert.ToBase64String(hash)).Append('\n');
        }

        head.Append('\n');
        return [.. Encoding.ASCII.GetBytes(head.ToString()), .. Checkpoint.Span];
    }

    /// <summary>Reads a request body; a <see cref="FormatException"/> names the bad line (the witness answers 400).</summary>
    public static AddCheckpointRequest Parse(ReadOnlySpan<byte> body)
    {
        // The header's lines are never empty, so the first empty line ends it.
        var end = body.IndexOf("\n\n"u8);
        if (end < 0)
        {
            throw new FormatException("The request has no empty line between the old size and proof lines and the checkpoint.");
        }

        var head = body[..end];
        foreach (var b in head)
        {
            if (b != (byte)'\n' && b is < 0x20 or > 0x7e)
            {
                throw new FormatException("The old size and proof lines are printable ASCII, one per line.");
            }
        }

        var lines = Encoding.ASCII.GetString(head).Split('\n');
        if (!lines[0].StartsWith(OldPrefix, StringComparison.Ordinal) || !TreeSizeText.TryParse(lines[0][OldPrefix.Length..], out var oldSize))
        {
            throw new FormatException($"Line 1 must be \"old <size>\" in decimal without leading zeros: \"{lines[0]}\".");
        }

        if (lines.Length - 1 > MaxProofLines)
        {
            throw new FormatException($"The request has {lines.Length - 1} proof lines; at most {MaxProofLines} are allowed.");
        }

        var proof = new List<byte[]>(lines.Length - 1);
        for (var i = 1; i < lines.Length; i++)
        {
            if (!StrictBase64.TryDecode(lines[i], out var hash) || hash.Length != Sha256Hash.Size)
            {
                throw new FormatException($"Line {i + 1} must be the standard base64 of a {Sha256Hash.Size}-byte hash: \"{lines[i]}\".");
            }

            proof.Add(hash);
        }

        return new AddCheckpointRequest(oldSize, proof, body[(end + 2)..].ToArray());
    }
}
