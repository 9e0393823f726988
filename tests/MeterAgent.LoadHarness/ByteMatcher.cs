namespace MeterAgent.LoadHarness;

/// <summary>
/// Finds a marker in a byte stream read in arbitrary pieces, without buffering it (the marker may straddle two reads).
/// The markers used here start with a byte that does not recur in them, so a restart on that byte is exact.
/// </summary>
internal struct ByteMatcher(byte[] marker)
{
    private int _matched;

    /// <summary>Index just past the marker in <paramref name="bytes"/>, or -1 if it has not ended in this piece.</summary>
    public int Feed(ReadOnlySpan<byte> bytes)
    {
        for (var i = 0; i < bytes.Length; i++)
        {
            if (bytes[i] == marker[_matched])
            {
                if (++_matched == marker.Length)
                {
                    _matched = 0;
                    return i + 1;
                }
            }
            else
            {
                _matched = bytes[i] == marker[0] ? 1 : 0;
            }
        }

        return -1;
    }
}
