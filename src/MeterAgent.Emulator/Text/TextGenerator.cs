using System.Collections.Concurrent;
using System.Text;

namespace MeterAgent.Emulator.Text;

/// <summary>
/// Deterministic output: the same seed and length always give the same text. Results are cached because
/// load benchmarks repeat the same few prompts and generation would otherwise dominate the emulator's cost.
/// </summary>
internal static class TextGenerator
{
    private const int MaxCachedEntries = 4096;
    private static readonly ConcurrentDictionary<(ulong Seed, int Tokens), GeneratedText> Cache = new();

    public static GeneratedText Generate(ulong seed, int tokens)
    {
        if (Cache.TryGetValue((seed, tokens), out var cached))
        {
            return cached;
        }

        var generated = Build(seed, tokens);
        if (Cache.Count < MaxCachedEntries)
        {
            Cache.TryAdd((seed, tokens), generated);
        }

        return generated;
    }

    private static GeneratedText Build(ulong seed, int tokens)
    {
        var random = new SplitMix64(seed);
        var text = new StringBuilder(tokens * 5);
        var ends = new int[tokens];
        var produced = 0;
        var afterPunctuation = true;
        while (produced < tokens)
        {
            string[] pieces;
            if (!afterPunctuation && random.Next(8) == 0)
            {
                pieces = Vocabulary.PunctuationPieces[random.Next(Vocabulary.PunctuationPieces.Length)];
                afterPunctuation = true;
            }
            else
            {
                pieces = Vocabulary.WordPieces[random.Next(Vocabulary.WordPieces.Length)];
                if (pieces.Length > tokens - produced)
                {
                    pieces = Vocabulary.WordPieces[Vocabulary.SingleTokenWords[random.Next(Vocabulary.SingleTokenWords.Length)]];
                }

                afterPunctuation = false;
            }

            foreach (var piece in pieces)
            {
                // The text starts without the leading space; whitespace is free in the native count anyway.
                text.Append(text.Length == 0 ? piece.AsSpan().TrimStart(' ') : piece);
                ends[produced++] = text.Length;
            }
        }

        return new GeneratedText(text.ToString(), ends);
    }
}
