using System.Globalization;
using System.Text;
using Microsoft.ML.Tokenizers;

namespace MeterAgent.Metering.Tokenization;

/// <summary>
/// The o200k_base split pattern of tiktoken, evaluated by hand on Unicode scalar values:
/// <code>
/// [^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?
/// |[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?
/// |\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+
/// </code>
/// Why not a .NET Regex: it matches UTF-16 code units, so a letter or digit outside the BMP (CJK Extension B,
/// mathematical alphanumerics) would be two surrogates instead of one \p{L}, and counts would drift from tiktoken.
/// Each alternative is resolved exactly as a leftmost-first backtracking engine would (first alternative that matches wins,
/// greedy quantifiers give back from the right). Special-token text is never split out: it is ordinary text here.
/// </summary>
internal sealed class O200kPreTokenizer : PreTokenizer
{
    public override IEnumerable<(int Offset, int Length)> PreTokenize(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return Split(text);
    }

    public override IEnumerable<(int Offset, int Length)> PreTokenize(ReadOnlySpan<char> text)
    {
        // The span cannot be captured by an iterator, so its pieces are listed up front.
        var pieces = new List<(int Offset, int Length)>(Math.Max(4, text.Length / 4));
        var position = 0;
        while (position < text.Length)
        {
            var end = NextEnd(text, position);
            pieces.Add((position, end - position));
            position = end;
        }

        return pieces;
    }

    private static IEnumerable<(int Offset, int Length)> Split(string text)
    {
        var position = 0;
        while (position < text.Length)
        {
            var end = NextEnd(text.AsSpan(), position);
            yield return (position, end - position);
            position = end;
        }
    }

    /// <summary>The end (exclusive, in chars) of the piece that starts at <paramref name="start"/>; always past it.</summary>
    internal static int NextEnd(ReadOnlySpan<char> text, int start)
    {
        var first = Read(text, start, out var firstLength);
        var afterFirst = start + firstLength;

        // Alternatives 1 and 2, first with the optional leading [^\r\n\p{L}\p{N}], then without it.
        if (IsLetterPrefix(first))
        {
            var end = MatchLetters(text, afterFirst);
            if (end >= 0)
            {
                return end;
            }
        }

        var lettersEnd = MatchLetters(text, start);
        if (lettersEnd >= 0)
        {
            return lettersEnd;
        }

        // Alternative 3: \p{N}{1,3}
        if (IsNumber(first))
        {
            var end = afterFirst;
            for (var digits = 1; digits < 3 && end < text.Length; digits++)
            {
                var next = Read(text, end, out var length);
                if (!IsNumber(next))
                {
                    break;
                }

                end += length;
            }

            return end;
        }

        // Alternative 4: " ?[^\s\p{L}\p{N}]+[\r\n/]*"
        var symbolsStart = -1;
        if (first.Value == ' ' && afterFirst < text.Length && IsSymbol(Read(text, afterFirst, out _)))
        {
            symbolsStart = afterFirst;
        }
        else if (IsSymbol(first))
        {
            symbolsStart = start;
        }

        if (symbolsStart >= 0)
        {
            var end = symbolsStart;
            while (end < text.Length)
            {
                var next = Read(text, end, out var length);
                if (!IsSymbol(next))
                {
                    break;
                }

                end += length;
            }

            while (end < text.Length && text[end] is '\r' or '\n' or '/')
            {
                end++;
            }

            return end;
        }

        // What is left starts with white space: alternatives 5, 6 and 7 over the maximal white-space run.
        var runEnd = start;
        var lastLineBreakEnd = -1;
        var lastCharStart = start;
        while (runEnd < text.Length)
        {
            var next = Read(text, runEnd, out var length);
            if (!IsWhiteSpace(next))
            {
                break;
            }

            if (next.Value is '\r' or '\n')
            {
                lastLineBreakEnd = runEnd + length;
            }

            lastCharStart = runEnd;
            runEnd += length;
        }

        if (runEnd == start)
        {
            // Unreachable for well-formed categories; never loop forever on a surprise.
            return afterFirst;
        }

        // \s*[\r\n]+ : \s* gives back until the last line break can close the match.
        if (lastLineBreakEnd >= 0)
        {
            return lastLineBreakEnd;
        }

        // \s+(?!\S) : the whole run at the end of the text, else all but its last character (when that leaves one).
        if (runEnd == text.Length)
        {
            return runEnd;
        }

        if (lastCharStart > start)
        {
            return lastCharStart;
        }

        // \s+
        return runEnd;
    }

    /// <summary>
    /// [UpperLike]*[LowerLike]+ or [UpperLike]+[LowerLike]* (in that order), then an optional contraction.
    /// Returns the end, or -1 when neither matches at <paramref name="start"/>.
    /// </summary>
    private static int MatchLetters(ReadOnlySpan<char> text, int start)
    {
        // Greedy [UpperLike]* ; remember the last position inside it that is also LowerLike, for giving back.
        var upperEnd = start;
        var lastLowerInUpper = -1;
        while (upperEnd < text.Length)
        {
            var next = Read(text, upperEnd, out var length);
            if (!IsUpperLike(next))
            {
                break;
            }

            if (IsLowerLike(next))
            {
                lastLowerInUpper = upperEnd;
            }

            upperEnd += length;
        }

        // Alternative 1: [LowerLike]+ right after the greedy upper run, else after giving back to its last LowerLike char.
        var lowerStart = upperEnd < text.Length && IsLowerLike(Read(text, upperEnd, out _)) ? upperEnd : lastLowerInUpper;
        if (lowerStart >= 0)
        {
            return Contraction(text, LowerRunEnd(text, lowerStart));
        }

        // Alternative 2: [UpperLike]+[LowerLike]* ; the lower run is empty here, or alternative 1 would have matched.
        return upperEnd > start ? Contraction(text, upperEnd) : -1;
    }

    private static int LowerRunEnd(ReadOnlySpan<char> text, int position)
    {
        while (position < text.Length)
        {
            var next = Read(text, position, out var length);
            if (!IsLowerLike(next))
            {
                break;
            }

            position += length;
        }

        return position;
    }

    /// <summary>(?i:'s|'t|'re|'ve|'m|'ll|'d)? : ASCII letters either case, as js-tiktoken spells it out.</summary>
    private static int Contraction(ReadOnlySpan<char> text, int position)
    {
        if (position + 1 >= text.Length || text[position] != '\'')
        {
            return position;
        }

        var a = (char)(text[position + 1] | 0x20);
        if (a is 's' or 't' or 'm' or 'd')
        {
            return position + 2;
        }

        if (position + 2 < text.Length)
        {
            var b = (char)(text[position + 2] | 0x20);
            if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l'))
            {
                return position + 3;
            }
        }

        return position;
    }

    private static Rune Read(ReadOnlySpan<char> text, int position, out int length)
    {
        // A lone surrogate reads as itself (one unit), like a JavaScript code point: it is neither letter, digit nor space.
        if (Rune.DecodeFromUtf16(text[position..], out var rune, out length) != System.Buffers.OperationStatus.Done)
        {
            length = 1;
            return Rune.ReplacementChar;
        }

        return rune;
    }

    private static bool IsLetter(UnicodeCategory category) => category <= UnicodeCategory.OtherLetter;

    private static bool IsMark(UnicodeCategory category) =>
        category is UnicodeCategory.NonSpacingMark or UnicodeCategory.SpacingCombiningMark or UnicodeCategory.EnclosingMark;

    private static bool IsNumber(Rune rune) =>
        Rune.GetUnicodeCategory(rune) is UnicodeCategory.DecimalDigitNumber or UnicodeCategory.LetterNumber or UnicodeCategory.OtherNumber;

    /// <summary>[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]</summary>
    private static bool IsUpperLike(Rune rune)
    {
        var category = Rune.GetUnicodeCategory(rune);
        return (IsLetter(category) && category != UnicodeCategory.LowercaseLetter) || IsMark(category);
    }

    /// <summary>[\p{Ll}\p{Lm}\p{Lo}\p{M}]</summary>
    private static bool IsLowerLike(Rune rune)
    {
        var category = Rune.GetUnicodeCategory(rune);
        return category is UnicodeCategory.LowercaseLetter or UnicodeCategory.ModifierLetter or UnicodeCategory.OtherLetter
            || IsMark(category);
    }

    /// <summary>[^\r\n\p{L}\p{N}]</summary>
    private static bool IsLetterPrefix(Rune rune) =>
        rune.Value is not ('\r' or '\n') && !IsLetter(Rune.GetUnicodeCategory(rune)) && !IsNumber(rune);

    /// <summary>[^\s\p{L}\p{N}]</summary>
    private static bool IsSymbol(Rune rune) =>
        !IsWhiteSpace(rune) && !IsLetter(Rune.GetUnicodeCategory(rune)) && !IsNumber(rune);

    /// <summary>\s as tiktoken's regex engine defines it: the Unicode White_Space property.</summary>
    private static bool IsWhiteSpace(Rune rune) => rune.Value switch
    {
        >= 0x09 and <= 0x0D => true,
        0x20 or 0x85 or 0xA0 or 0x1680 => true,
        >= 0x2000 and <= 0x200A => true,
        0x2028 or 0x2029 or 0x202F or 0x205F or 0x3000 => true,
        _ => false,
    };
}
