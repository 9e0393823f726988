using System.Buffers;
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

    /// <summary>
    /// Pieces longer than this (UTF-8 bytes) are merged by <see cref="LongPieceCounter"/>. Measured: at 128 bytes it is
    /// already as fast as the library's merge or faster for every kind of text, and the library stays in charge of short
    /// pieces, where its per-word cache makes it much faster. No token is longer than 128 bytes either.
    /// </summary>
    internal const int LongPieceBytes = 128;

    private readonly TiktokenTokenizer _tokenizer;
    private readonly LongPieceCounter _longPieces;

    private ReferenceTokenizer(TiktokenTokenizer tokenizer, LongPieceCounter longPieces, string rankDataSha256)
    {
        _tokenizer = tokenizer;
        _longPieces = longPieces;
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

        // The pieces are split here rather than by the library so each long one can be routed around its merge, and so
        // nothing is allocated (the library's own pre-tokenization lists the pieces of a span and enumerates them boxed);
        // the library then counts each short one as a single pre-token, exactly as it would have inside its own loop.
        var count = 0;
        var position = 0;
        while (position < text.Length)
        {
            var end = O200kPreTokenizer.NextEnd(text, position);
            var piece = text[position..end];
            count += piece.Length > LongPieceBytes / 3 && Encoding.UTF8.GetByteCount(piece) > LongPieceBytes
                ? CountLongPiece(piece)
                : _tokenizer.CountTokens(piece, considerPreTokenization: false, considerNormalization: false);
            position = end;
        }

        return count;
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

    /// <summary>The count as the library alone gives it: the same, but quadratic in a piece's length. Tests compare with it.</summary>
    internal int CountTokensWithLibrary(ReadOnlySpan<char> text) =>
        text.IsEmpty ? 0 : _tokenizer.CountTokens(text, considerPreTokenization: true, considerNormalization: false);

    /// <summary>One piece, merged by <see cref="LongPieceCounter"/> whatever its length.</summary>
    internal int CountLongPiece(ReadOnlySpan<char> piece)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(Encoding.UTF8.GetMaxByteCount(piece.Length));
        try
        {
            // A lone surrogate becomes U+FFFD's bytes, as tiktoken replaces it (the library would write its CESU-8 bytes).
            var length = Encoding.UTF8.GetBytes(piece, buffer);
            return _longPieces.CountTokens(buffer.AsSpan(0, length));
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

        // No special tokens at all: CreateForEncoding would register <|endoftext|> and <|endofprompt|> and split them out
        // of the text, which is not what tiktoken's encode(text, (), ()) does and would let a client shrink its count.
        using var ranks = new MemoryStream(rankData, writable: false);
        var tokenizer = TiktokenTokenizer.Create(
            ranks,
            new O200kPreTokenizer(),
            normalizer: null,
            specialTokens: null);
        return new ReferenceTokenizer(tokenizer, LongPieceCounter.FromRankData(rankData), sha256);
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
