using System.IO.Compression;
using System.Reflection;
using System.Security.Cryptography;
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

    private readonly TiktokenTokenizer _tokenizer;

    private ReferenceTokenizer(TiktokenTokenizer tokenizer, string rankDataSha256)
    {
        _tokenizer = tokenizer;
        RankDataSha256 = rankDataSha256;
    }

    public static ReferenceTokenizer Instance => Shared.Value;

    /// <summary>"o200k_base".</summary>
    public string Name => "o200k_base";

    /// <summary>Hex SHA-256 of the rank data (the .tiktoken file bytes) the counts come from.</summary>
    public string RankDataSha256 { get; }

    public int CountTokens(ReadOnlySpan<char> text) =>
        text.IsEmpty ? 0 : _tokenizer.CountTokens(text, considerPreTokenization: true, considerNormalization: false);

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
        return new ReferenceTokenizer(tokenizer, sha256);
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
        using var reader = new StreamReader(inflated, System.Text.Encoding.ASCII);
        using var published = new MemoryStream(4 * 1024 * 1024);
        using var writer = new StreamWriter(published, System.Text.Encoding.ASCII) { NewLine = "\n" };

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
