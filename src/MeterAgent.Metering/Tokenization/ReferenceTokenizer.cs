using System.Buffers;
using System.Collections.Concurrent;
using System.IO.Compression;
using System.Reflection;
using System.Security.Cryptography;
using System.Text;
using Microsoft.ML.Tokenizers;

namespace MeterAgent.Metering.Tokenization;

/// <summary>
/// The frozen reference tokenizer: o200k_base. Text that looks like a special token is ordinary text,
/// so a count equals tiktoken's encode(text, allowed_special=(), disallowed_special=()).
/// Thread-safe; one shared instance.
/// </summary>
public sealed class ReferenceTokenizer
{
    // The data package embeds the rank file deflated under this name; its only type is internal, so it is found by name.
    private const string RankDataAssembly = "Microsoft.ML.Tokenizers.Data.O200kBase";
    private const string RankDataResource = "o200k_base.tiktoken.deflate";

    private static readonly Lazy<ReferenceTokenizer> Shared = new(Load, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>Pieces up to this many UTF-8 bytes are encoded on the stack; no token is longer either.</summary>
    internal const int LongPieceBytes = BytePairCounter.StackPieceBytes;

    /// <summary>How many pieces that take a merge are remembered (a few MB at most).</summary>
    internal const int MergedPieceCapacity = 16_384;

    private readonly BytePairCounter _counter;

    // Pieces that take a merge (most words are one token and need none), counted once: common ones recur in every
    // request. Bounded, never evicted: a client sending junk can fill it (then new pieces are merged each time), not grow it.
    private readonly ConcurrentDictionary<string, int> _merged = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> _mergedByChars;
    private int _mergedCount;

    // Microsoft.ML.Tokenizers' own tokenizer over the same rank data: the tests' oracle, built only when one asks.
    private readonly Lazy<TiktokenTokenizer> _library;

    private ReferenceTokenizer(BytePairCounter counter, Lazy<TiktokenTokenizer> library, string rankDataSha256)
    {
        _counter = counter;
        _library = library;
        _mergedByChars = _merged.GetAlternateLookup<ReadOnlySpan<char>>();
        RankDataSha256 = rankDataSha256;
    }

    public static ReferenceTokenizer Instance => Shared.Value;

    /// <summary>"o200k_base".</summary>
    public string Name => "o200k_base";

    /// <summary>Hex SHA-256 of the rank data (the .tiktoken file bytes) the counts come from.</summary>
    public string RankDataSha256 { get; }

    public int CountTokens(ReadOnlySpan<char> text)
    {
        // tiktoken encodes a lone surrogate as U+FFFD; the library would write its raw bytes. Rare, so checked cheaply first.
        if (text.IndexOfAnyInRange('\uD800', '\uDFFF') >= 0 && HasLoneSurrogate(text))
        {
            return CountTokens(ReplaceLoneSurrogates(text));
        }

        // Split into pre-tokens (the o200k pattern, as tiktoken splits), then each one's UTF-8 bytes merged as tiktoken
        // merges them. Nothing is allocated for a piece of up to LongPieceBytes: its bytes and its merge live on the stack.
        Span<byte> bytes = stackalloc byte[LongPieceBytes];
        var count = 0;
        var position = 0;
        while (position < text.Length)
        {
            var end = O200kPreTokenizer.NextEnd(text, position);
            var piece = text[position..end];
            count += piece.Length <= LongPieceBytes / 3 || Encoding.UTF8.GetByteCount(piece) <= LongPieceBytes
                ? CountShortPiece(piece, bytes)
                : CountLongPiece(piece);
            position = end;
        }

        return count;
    }

    /// <summary>Pieces remembered now (tests).</summary>
    internal int MergedPieceCount => _merged.Count;

    private int CountShortPiece(ReadOnlySpan<char> piece, Span<byte> buffer)
    {
        var bytes = buffer[..Encoding.UTF8.GetBytes(piece, buffer)];
        if (_counter.CountIfWhole(bytes) is var whole and >= 0)
        {
            return whole;
        }

        if (_mergedByChars.TryGetValue(piece, out var merged))
        {
            return merged;
        }

        merged = _counter.CountByMerging(bytes);
        Remember(piece, merged);
        return merged;
    }

    /// <summary>
    /// Keeps a piece's count while there is room. A place is taken before the piece is added, so concurrent callers can
    /// never hold more than <see cref="MergedPieceCapacity"/> together (a check, then an add, let each of them pass the
    /// check at the last free place).
    /// </summary>
    private void Remember(ReadOnlySpan<char> piece, int merged)
    {
        if (Volatile.Read(ref _mergedCount) >= MergedPieceCapacity)
        {
            return;
        }

        if (Interlocked.Increment(ref _mergedCount) > MergedPieceCapacity || !_mergedByChars.TryAdd(piece, merged))
        {
            Interlocked.Decrement(ref _mergedCount);
        }
    }

    private static bool HasLoneSurrogate(ReadOnlySpan<char> text)
    {
        for (var i = 0; i < text.Length; i++)
        {
            if (char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                i++;
            }
            else if (char.IsSurrogate(text[i]))
            {
                return true;
            }
        }

        return false;
    }

    private static string ReplaceLoneSurrogates(ReadOnlySpan<char> text)
    {
        var chars = text.ToArray();
        for (var i = 0; i < chars.Length; i++)
        {
            if (char.IsHighSurrogate(chars[i]) && i + 1 < chars.Length && char.IsLowSurrogate(chars[i + 1]))
            {
                i++;
            }
            else if (char.IsSurrogate(chars[i]))
            {
                chars[i] = '\uFFFD';
            }
        }

        return new string(chars);
    }

    public long CountTokens(IReadOnlyList<string> segments)
    {
        ArgumentNullException.ThrowIfNull(segments);
        long total = 0;
        for (var i = 0; i < segments.Count; i++)
        {
            total += CountTokens(segments[i].AsSpan());
        }

        return total;
    }

    /// <summary>
    /// The count as Microsoft.ML.Tokenizers' tokenizer gives it: the same, but quadratic in a piece's length. Tests
    /// compare with it; the agent never builds it (its maps for encoding and decoding cost ~45 MB of heap).
    /// </summary>
    internal int CountTokensWithLibrary(ReadOnlySpan<char> text) =>
        text.IsEmpty ? 0 : _library.Value.CountTokens(text, considerPreTokenization: true, considerNormalization: false);

    /// <summary>One piece, merged by <see cref="BytePairCounter"/> whatever its length.</summary>
    internal int CountLongPiece(ReadOnlySpan<char> piece)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(Encoding.UTF8.GetMaxByteCount(piece.Length));
        try
        {
            // A lone surrogate becomes U+FFFD's bytes, as tiktoken replaces it (the library would write its CESU-8 bytes).
            var length = Encoding.UTF8.GetBytes(piece, buffer);
            return _counter.CountTokens(buffer.AsSpan(0, length));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static ReferenceTokenizer Load()
    {
        var rankData = ReadRankData();
        var sha256 = Convert.ToHexStringLower(SHA256.HashData(rankData));

        return new ReferenceTokenizer(BytePairCounter.FromRankData(rankData), new Lazy<TiktokenTokenizer>(() =>
        {
            // No special tokens at all: CreateForEncoding would register <|endoftext|> and <|endofprompt|> and split them
            // out of the text, which is not what tiktoken's encode(text, (), ()) does.
            using var ranks = new MemoryStream(ReadRankData(), writable: false);
            return TiktokenTokenizer.Create(ranks, new O200kPreTokenizer(), normalizer: null, specialTokens: null);
        }), sha256);
    }

    /// <summary>
    /// The published o200k_base.tiktoken bytes ("base64 rank\n" per token, ranks 0..n-1). The data package stores them
    /// in a compact form (a "Capacity: n" line, then one base64 token per CRLF line in rank order); rebuilding the
    /// published file lets the hash be checked against tiktoken's own and the tokenizer load exactly what is hashed.
    /// </summary>
    private static byte[] ReadRankData()
    {
        var assembly = Assembly.Load(new AssemblyName(RankDataAssembly));
        using var resource = assembly.GetManifestResourceStream(RankDataResource)
            ?? throw new InvalidOperationException($"{RankDataAssembly} does not embed {RankDataResource}.");
        using var inflated = new DeflateStream(resource, CompressionMode.Decompress);
        using var reader = new StreamReader(inflated, Encoding.ASCII);
        using var published = new MemoryStream(4 * 1024 * 1024);
        using var writer = new StreamWriter(published, Encoding.ASCII) { NewLine = "\n" };

        var rank = 0;
        var first = true;
        while (reader.ReadLine() is { } line)
        {
            if (first && line.StartsWith("Capacity:", StringComparison.Ordinal))
            {
                first = false;
                continue;
            }

            first = false;
            if (line.Length == 0)
            {
                continue;
            }

            writer.Write(line);
            writer.Write(' ');
            writer.Write(rank.ToString(System.Globalization.CultureInfo.InvariantCulture));
            writer.Write('\n');
            rank++;
        }

        writer.Flush();
        return published.ToArray();
    }
}
