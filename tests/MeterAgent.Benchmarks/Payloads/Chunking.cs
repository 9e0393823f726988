namespace MeterAgent.Benchmarks.Payloads;

/// <summary>How the upstream's bytes arrive at the tap.</summary>
public enum Chunking
{
    /// <summary>One event per read: a paced model server flushes each delta on its own (the common case).</summary>
    PerEvent,

    /// <summary>1,400-byte reads cut anywhere, mid-line and mid-UTF-8: a fast upstream whose events coalesce in TCP segments.</summary>
    Segments1400,
}

internal static class ChunkSplitter
{
    public static ReadOnlyMemory<byte>[] Split(byte[][] events, Chunking chunking)
    {
        if (chunking == Chunking.PerEvent)
        {
            return Array.ConvertAll(events, e => new ReadOnlyMemory<byte>(e));
        }

        var all = events.SelectMany(e => e).ToArray();
        var chunks = new List<ReadOnlyMemory<byte>>();
        for (var offset = 0; offset < all.Length; offset += 1400)
        {
            chunks.Add(all.AsMemory(offset, Math.Min(1400, all.Length - offset)));
        }

        return [.. chunks];
    }
}
