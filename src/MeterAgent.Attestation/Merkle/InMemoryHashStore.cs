namespace MeterAgent.Attestation.Merkle;

/// <summary>
/// The hash store in memory: for tests and tools. One growing buffer per level, so a level is bounded by the
/// array limit (about 67 million leaves), which is far beyond what a test builds.
/// </summary>
public sealed class InMemoryHashStore : IHashStore
{
    private readonly List<byte[]> _levels = [];

    public long Size { get; private set; }

    public void Append(long index, ReadOnlySpan<byte> hashes)
    {
        if (index != Size)
        {
            throw new ArgumentOutOfRangeException(nameof(index), index, $"The next leaf is {Size}.");
        }

        if (hashes.Length == 0 || hashes.Length % Sha256Hash.Size != 0)
        {
            throw new ArgumentException("The leaf hash and the nodes it completes, 32 bytes each.", nameof(hashes));
        }

        for (var level = 0; level < hashes.Length / Sha256Hash.Size; level++)
        {
            var offset = checked((int)((index >> level) * Sha256Hash.Size));
            if (level == _levels.Count)
            {
                _levels.Add(new byte[Sha256Hash.Size * 16]);
            }

            var buffer = _levels[level];
            if (buffer.Length < offset + Sha256Hash.Size)
            {
                Array.Resize(ref buffer, Math.Max(buffer.Length * 2, offset + Sha256Hash.Size));
                _levels[level] = buffer;
            }

            hashes.Slice(level * Sha256Hash.Size, Sha256Hash.Size).CopyTo(buffer.AsSpan(offset));
        }

        Size = index + 1;
    }

    public void ReadHashes(int level, long index, Span<byte> destination)
    {
        var count = destination.Length / Sha256Hash.Size;
        if (destination.Length % Sha256Hash.Size != 0)
        {
            throw new ArgumentException("A whole number of 32-byte hashes.", nameof(destination));
        }

        if (level < 0 || level >= _levels.Count || index < 0 || index > (Size >> level) - count)
        {
            throw new ArgumentOutOfRangeException(nameof(index), index, $"Level {level} holds {(level is >= 0 and < 63 ? Size >> level : 0)} nodes at size {Size}.");
        }

        _levels[level].AsSpan((int)(index * Sha256Hash.Size), destination.Length).CopyTo(destination);
    }
}
