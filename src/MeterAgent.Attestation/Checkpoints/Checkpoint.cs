using System.Globalization;
using System.Text;
using MeterAgent.Attestation.Notes;

namespace MeterAgent.Attestation.Checkpoints;

/// <summary>
/// The note text of a c2sp.org/tlog-checkpoint: the origin, the tree size in decimal, the base64 root hash, then
/// optional extension lines, each ending in a newline. Parsing is strict because a checkpoint is compared and
/// cosigned as bytes: two spellings of one tree head (a leading zero, a trailing space) would be two checkpoints.
/// </summary>
public sealed record Checkpoint
{
    private readonly byte[] _rootHash;

    public Checkpoint(string origin, long treeSize, ReadOnlySpan<byte> rootHash, IReadOnlyList<string>? extensions = null)
    {
        ArgumentNullException.ThrowIfNull(origin);
        if (ValidateLine(origin) is { } originProblem)
        {
            throw new ArgumentException($"The origin {originProblem}.", nameof(origin));
        }

        ArgumentOutOfRangeException.ThrowIfNegative(treeSize);
        if (rootHash.Length != Sha256Hash.Size)
        {
            throw new ArgumentException($"A root hash is {Sha256Hash.Size} bytes, not {rootHash.Length}.", nameof(rootHash));
        }

        var copied = (extensions ?? []).ToArray();
        for (var i = 0; i < copied.Length; i++)
        {
            if (ValidateLine(copied[i]) is { } problem)
            {
                throw new ArgumentException($"Extension line {i + 1} {problem}.", nameof(extensions));
            }
        }

        Origin = origin;
        TreeSize = treeSize;
        _rootHash = rootHash.ToArray();
        Extensions = copied;
    }

    /// <summary>The log's identity; by convention a schema-less URL, but readers must not assume it is one.</summary>
    public string Origin { get; }

    public long TreeSize { get; }

    /// <summary>The RFC 6962 root hash of the first <see cref="TreeSize"/> leaves.</summary>
    public ReadOnlySpan<byte> RootHash => _rootHash;

    /// <summary>Opaque extra lines; the spec discourages them, since monitors cannot audit them.</summary>
    public IReadOnlyList<string> Extensions { get; }

    /// <summary>Reads a checkpoint body (a verified note's text); a <see cref="FormatException"/> names the bad line.</summary>
    public static Checkpoint Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (text.Length == 0 || text[^1] != '\n')
        {
            throw new FormatException("A checkpoint ends with a newline.");
        }

        var lines = text[..^1].Split('\n');
        if (lines.Length < 3)
        {
            throw new FormatException($"A checkpoint has at least three lines (origin, tree size, root hash); this has {lines.Length}.");
        }

        for (var i = 0; i < lines.Length; i++)
        {
            if (ValidateLine(lines[i]) is { } problem)
            {
                throw new FormatException($"Checkpoint line {i + 1} {problem}.");
            }
        }

        if (!TryParseTreeSize(lines[1], out var treeSize))
        {
            throw new FormatException(
                $"Checkpoint line 2 must be the tree size in decimal without leading zeros or sign, up to {long.MaxValue}: \"{lines[1]}\".");
        }

        if (!StrictBase64.TryDecode(lines[2], out var rootHash) || rootHash.Length != Sha256Hash.Size)
        {
            throw new FormatException(
                $"Checkpoint line 3 must be the standard base64 of a {Sha256Hash.Size}-byte root hash: \"{lines[2]}\".");
        }

        return new Checkpoint(lines[0], treeSize, rootHash, lines[3..]);
    }

    /// <summary>The checkpoint body, to be signed as a note's text.</summary>
    public string Format()
    {
        var text = new StringBuilder()
            .Append(Origin).Append('\n')
            .Append(TreeSize.ToString(CultureInfo.InvariantCulture)).Append('\n')
            .Append(Convert.ToBase64String(_rootHash)).Append('\n');
        foreach (var extension in Extensions)
        {
            text.Append(extension).Append('\n');
        }

        return text.ToString();
    }

    public bool Equals(Checkpoint? other) =>
        other is not null
        && Origin == other.Origin
        && TreeSize == other.TreeSize
        && _rootHash.AsSpan().SequenceEqual(other._rootHash)
        && Extensions.SequenceEqual(other.Extensions);

    public override int GetHashCode() => HashCode.Combine(Origin, TreeSize, Convert.ToBase64String(_rootHash));

    public override string ToString() => $"{Origin} @ {TreeSize.ToString(CultureInfo.InvariantCulture)} {Convert.ToBase64String(_rootHash)}";

    /// <summary>Null if <paramref name="line"/> may be a checkpoint line; otherwise what is wrong with it.</summary>
    private static string? ValidateLine(string line)
    {
        if (line.Length == 0)
        {
            return "is empty";
        }

        foreach (var c in line)
        {
            // Newline included: a line that holds one is two lines once formatted.
            if (c < 0x20)
            {
                return $"contains the control character U+{(int)c:X4}";
            }
        }

        // An unpaired surrogate has no UTF-8 form, so the line could not be signed as written.
        for (var rest = line.AsSpan(); !rest.IsEmpty;)
        {
            if (Rune.DecodeFromUtf16(rest, out _, out var used) != System.Buffers.OperationStatus.Done)
            {
                return "contains an unpaired surrogate";
            }

            rest = rest[used..];
        }

        return null;
    }

    private static bool TryParseTreeSize(string text, out long treeSize)
    {
        treeSize = 0;
        if (text.Length == 0 || !text.All(char.IsAsciiDigit) || (text.Length > 1 && text[0] == '0'))
        {
            return false;
        }

        return long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out treeSize);
    }
}
