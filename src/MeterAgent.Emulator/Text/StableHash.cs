namespace MeterAgent.Emulator.Text;

/// <summary>
/// FNV-1a (64-bit) over UTF-16 code units. string.GetHashCode is randomized per process, and the emulator
/// must answer the same request with the same bytes across runs and machines.
/// </summary>
internal struct StableHash
{
    private const ulong OffsetBasis = 14695981039346656037;
    private const ulong Prime = 1099511628211;

    private ulong _value;

    public StableHash() => _value = OffsetBasis;

    public readonly ulong Value => _value;

    public void Add(ReadOnlySpan<char> text)
    {
        var h = _value;
        foreach (var c in text)
        {
            h = (h ^ (byte)c) * Prime;
            h = (h ^ (byte)(c >> 8)) * Prime;
        }

        // A separator so that ["ab","c"] and ["a","bc"] differ.
        _value = (h ^ 0xFF) * Prime;
    }

    public void Add(long number)
    {
        var h = _value;
        for (var i = 0; i < 8; i++)
        {
            h = (h ^ (byte)(number >> (i * 8))) * Prime;
        }

        _value = h;
    }
}
