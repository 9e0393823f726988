using System.Text;

namespace MeterAgent.Emulator.Text;

/// <summary>
/// The fixed word list output text is drawn from, each word pre-split into pieces of exactly one native
/// token, so a stream delta of k tokens is k pieces and the whole text re-tokenizes to the reported count.
/// Non-ASCII words are here on purpose: streams must carry multi-byte UTF-8 (2-, 3- and 4-byte).
/// </summary>
internal static class Vocabulary
{
    private static readonly string[] Words =
    [
        "the", "meter", "counts", "every", "token", "ledger", "credit", "stream", "delivery", "clearing",
        "house", "futures", "contract", "model", "upstream", "proxy", "reserve", "settle", "window", "record",
        "signed", "proof", "latency", "cache", "emulator", "units", "of", "and", "to", "a", "is", "for",
        "caf\u00e9", "na\u00efve", "\u00fcber", "r\u00e9sum\u00e9", "\u6570\u636e", "\u6a21\u578b\u63a8\u7406\u670d\u52a1",
        "\U0001F680", "\u2713", "42", "2026", "o200k",
    ];

    private static readonly string[] Punctuation = [",", "."];

    /// <summary>Each entry: the word with a leading space, split into one-token pieces.</summary>
    public static readonly string[][] WordPieces = [.. Words.Select(w => Split(" " + w))];

    public static readonly string[][] PunctuationPieces = [.. Punctuation.Select(p => new[] { p })];

    /// <summary>Indexes into <see cref="WordPieces"/> of words that are a single token.</summary>
    public static readonly int[] SingleTokenWords =
        [.. Enumerable.Range(0, WordPieces.Length).Where(i => WordPieces[i].Length == 1)];

    private static string[] Split(string spacedWord)
    {
        // A letter/digit run costs one token per 4 scalars, so cut it every 4 scalars; a symbol is its own token.
        var pieces = new List<string>();
        var current = new StringBuilder(" ");
        var inRun = 0;
        foreach (var rune in spacedWord.AsSpan(1).EnumerateRunes())
        {
            if (!Rune.IsLetterOrDigit(rune) || inRun == 4)
            {
                if (inRun > 0)
                {
                    pieces.Add(current.ToString());
                    current.Clear();
                    inRun = 0;
                }
            }

            current.Append(rune.ToString());
            if (Rune.IsLetterOrDigit(rune))
            {
                inRun++;
            }
            else
            {
                pieces.Add(current.ToString());
                current.Clear();
            }
        }

        if (current.Length > 0)
        {
            pieces.Add(current.ToString());
        }

        return [.. pieces];
    }
}
