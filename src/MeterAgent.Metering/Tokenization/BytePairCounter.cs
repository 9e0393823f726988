using System.Buffers;
using System.Buffers.Text;
using System.Globalization;

namespace MeterAgent.Metering.Tokenization;

/// <summary>
/// Counts the tokens of one pre-token exactly as tiktoken's <c>_byte_pair_merge</c> would, in O(n log n) instead of
/// its O(n²): a merge that rescans the whole piece after every merge (tiktoken's, and Microsoft.ML.Tokenizers') would
/// let a client send one long unbroken run (megabytes of letters) and hold a core for minutes. The merge order is the
/// same (lowest-rank adjacent pair first, leftmost on ties), so the parts left, and their number, are the same.
/// </summary>
/// <remarks>
/// It holds only the byte-sequence → rank map (one shared array of token bytes and ~200k slices of it, ~10 MB): all that
/// counting needs. The library's tokenizer object also keeps a rank → bytes map and a string vocabulary for encoding
/// and decoding (~45 MB more of the agent's heap), with no way to build it without them.
/// </remarks>
internal sealed class BytePairCounter
{
    private const int NoRank = int.MaxValue;

    private readonly Dictionary<ReadOnlyMemory<byte>, int>.AlternateLookup<ReadOnlySpan<byte>> _ranks;

    private BytePairCounter(Dictionary<ReadOnlyMemory<byte>, int> ranks) =>
        _ranks = ranks.GetAlternateLookup<ReadOnlySpan<byte>>();

    /// <summary>Builds the byte-sequence → rank map from the published .tiktoken text ("base64 rank\n" per token).</summary>
    public static BytePairCounter FromRankData(ReadOnlySpan<byte> rankData)
    {
        // Every token lives in one shared array, so the map holds ~200k slices rather than ~200k small arrays.
        var decoded = new byte[Base64.GetMaxDecodedFromUtf8Length(rankData.Length)];
        var entries = new List<(int Offset, int Length, int Rank)>(200_000);
        var used = 0;
        while (!rankData.IsEmpty)
        {
            var lineEnd = rankData.IndexOf((byte)'\n');
            var line = lineEnd < 0 ? rankData : rankData[..lineEnd];
            rankData = lineEnd < 0 ? [] : rankData[(lineEnd + 1)..];
            if (line.IsEmpty)
            {
                continue;
            }

            var space = line.IndexOf((byte)' ');
            if (space <= 0
                || Base64.DecodeFromUtf8(line[..space], decoded.AsSpan(used), out _, out var written) != OperationStatus.Done
                || !int.TryParse(line[(space + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var rank))
            {
                throw new InvalidDataException("The rank data is not \"base64 rank\" lines.");
            }

            entries.Add((used, written, rank));
            used += written;
        }

        var tokens = decoded.AsMemory(0, used);
        var ranks = new Dictionary<ReadOnlyMemory<byte>, int>(entries.Count, ByteSequenceComparer.Instance);
        foreach (var (offset, length, rank) in entries)
        {
            ranks.Add(tokens.Slice(offset, length), rank);
        }

        return new BytePairCounter(ranks);
    }

    /// <summary>Pieces up to this many bytes are merged in stack memory; longer ones in pooled arrays.</summary>
    internal const int StackPieceBytes = 128;

    /// <summary>
    /// 1 when <paramref name="piece"/> is one token (tiktoken looks the whole piece up before merging: a piece that is a
    /// token is one, however the merges would go), 0 when empty, -1 when it takes a merge.
    /// </summary>
    public int CountIfWhole(ReadOnlySpan<byte> piece) =>
        piece.Length <= 1 || _ranks.ContainsKey(piece) ? Math.Min(piece.Length, 1) : -1;

    /// <summary>The number of tokens tiktoken encodes <paramref name="piece"/> (one pre-token, UTF-8) into.</summary>
    public int CountTokens(ReadOnlySpan<byte> piece) => CountIfWhole(piece) is var whole and >= 0 ? whole : CountByMerging(piece);

    /// <summary>The count of a piece that is not one token (<see cref="CountIfWhole"/> said -1): its merge, run out.</summary>
    public int CountByMerging(ReadOnlySpan<byte> piece)
    {
        var length = piece.Length;

        // A merge pops one key and pushes at most two, so stale keys can at most double the heap: n-1 + merges < 2n.
        if (length <= StackPieceBytes)
        {
            return Merge(piece, stackalloc int[length], stackalloc int[length], stackalloc int[length], stackalloc long[2 * length]);
        }

        var next = ArrayPool<int>.Shared.Rent(length);
        var previous = ArrayPool<int>.Shared.Rent(length);
        var pairRank = ArrayPool<int>.Shared.Rent(length);
        var heapItems = ArrayPool<long>.Shared.Rent(2 * length);
        try
        {
            return Merge(piece, next, previous, pairRank, heapItems);
        }
        finally
        {
            ArrayPool<long>.Shared.Return(heapItems);
            ArrayPool<int>.Shared.Return(pairRank);
            ArrayPool<int>.Shared.Return(previous);
            ArrayPool<int>.Shared.Return(next);
        }
    }

    /// <summary>
    /// Parts are runs of bytes; a part is named by its first byte's position. For each live part: the next part's start
    /// (length for the last), the previous part's start (-1 for the first), and the rank of the pair it forms with its
    /// right neighbour (NoRank when that pair is no token, when it is last, or when it is merged away).
    /// </summary>
    private int Merge(ReadOnlySpan<byte> piece, Span<int> next, Span<int> previous, Span<int> pairRank, Span<long> heapItems)
    {
        var length = piece.Length;
        var heap = new KeyHeap(heapItems);
        for (var i = 0; i < length; i++)
        {
            next[i] = i + 1;
            previous[i] = i - 1;
            pairRank[i] = i + 1 < length ? Rank(piece.Slice(i, 2)) : NoRank;
            if (pairRank[i] != NoRank)
            {
                heap.AddUnordered(Key(pairRank[i], i));
            }
        }

        heap.Heapify();
        var parts = length;
        while (heap.TryPop(out var key))
        {
            var start = (int)(key & uint.MaxValue);
            var rank = (int)(key >> 32);
            // Lazy invalidation: a pair's byte range only ever grows, and ranks are unique per byte sequence, so a
            // key whose rank is no longer its part's current pair rank is stale (and a merged-away part has NoRank).
            if (pairRank[start] != rank)
            {
                continue;
            }

            var right = next[start];
            var afterRight = next[right];
            next[start] = afterRight;
            if (afterRight < length)
            {
                previous[afterRight] = start;
            }

            pairRank[right] = NoRank;
            parts--;

            pairRank[start] = afterRight < length ? Rank(piece[start..next[afterRight]]) : NoRank;
            if (pairRank[start] != NoRank)
            {
                heap.Push(Key(pairRank[start], start));
            }

            var left = previous[start];
            if (left >= 0)
            {
                pairRank[left] = Rank(piece[left..afterRight]);
                if (pairRank[left] != NoRank)
                {
                    heap.Push(Key(pairRank[left], left));
                }
            }
        }

        // Every part left is a token: o200k has all 256 single bytes, and every merge made one.
        return parts;
    }

    private int Rank(ReadOnlySpan<byte> pair) => _ranks.TryGetValue(pair, out var rank) ? rank : NoRank;

    /// <summary>Orders by rank, then by position: the leftmost of equal-rank pairs first, as tiktoken's scan picks it.</summary>
    private static long Key(int rank, int start) => ((long)rank << 32) | (uint)start;

    /// <summary>A binary min-heap of keys in caller-owned memory (stack or pooled), so a merge allocates nothing.</summary>
    private ref struct KeyHeap(Span<long> items)
    {
        private readonly Span<long> _items = items;
        private int _count;

        public void AddUnordered(long key) => _items[_count++] = key;

        public readonly void Heapify()
        {
            for (var i = (_count / 2) - 1; i >= 0; i--)
            {
                SiftDown(i);
            }
        }

        public void Push(long key)
        {
            var i = _count++;
            while (i > 0)
            {
                var parent = (i - 1) / 2;
                if (_items[parent] <= key)
                {
                    break;
                }

                _items[i] = _items[parent];
                i = parent;
            }

            _items[i] = key;
        }

        public bool TryPop(out long key)
        {
            if (_count == 0)
            {
                key = 0;
                return false;
            }

            key = _items[0];
            _count--;
            if (_count > 0)
            {
                _items[0] = _items[_count];
                SiftDown(0);
            }

            return true;
        }

        private readonly void SiftDown(int i)
        {
            var item = _items[i];
            while (true)
            {
                var child = (2 * i) + 1;
                if (child >= _count)
                {
                    break;
                }

                if (child + 1 < _count && _items[child + 1] < _items[child])
                {
                    child++;
                }

                if (_items[child] >= item)
                {
                    break;
                }

                _items[i] = _items[child];
                i = child;
            }

            _items[i] = item;
        }
    }

    /// <summary>Byte-wise equality, with span probes that need no key allocation.</summary>
    private sealed class ByteSequenceComparer
        : IEqualityComparer<ReadOnlyMemory<byte>>, IAlternateEqualityComparer<ReadOnlySpan<byte>, ReadOnlyMemory<byte>>
    {
        public static readonly ByteSequenceComparer Instance = new();

        public bool Equals(ReadOnlyMemory<byte> x, ReadOnlyMemory<byte> y) => x.Span.SequenceEqual(y.Span);

        public int GetHashCode(ReadOnlyMemory<byte> obj) => Hash(obj.Span);

        public bool Equals(ReadOnlySpan<byte> alternate, ReadOnlyMemory<byte> other) => alternate.SequenceEqual(other.Span);

        public int GetHashCode(ReadOnlySpan<byte> alternate) => Hash(alternate);

        public ReadOnlyMemory<byte> Create(ReadOnlySpan<byte> alternate) => alternate.ToArray();

        // HashCode is seeded per process, so a client cannot choose pieces that all collide.
        private static int Hash(ReadOnlySpan<byte> bytes)
        {
            var hash = default(HashCode);
            hash.AddBytes(bytes);
            return hash.ToHashCode();
        }
    }
}
