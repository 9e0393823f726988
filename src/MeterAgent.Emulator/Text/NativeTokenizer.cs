using System.Text;

namespace MeterAgent.Emulator.Text;

/// <summary>
/// The emulator's own "native" tokenizer. It is deliberately not o200k so that native counts differ from
/// reference counts, as they do for any real non-OpenAI model. The rule, over Unicode scalar values:
/// a run of letters/digits of n scalars is ceil(n/4) tokens; every other non-whitespace scalar is one token;
/// whitespace is attached to the token that follows it (free), and trailing whitespace counts as one token.
/// </summary>
internal static class NativeTokenizer
{
    public static int Count(ReadOnlySpan<char> text)
    {
        var tokens = 0;
        var run = 0;
        var pendingWhitespace = false;
        foreach (var rune in text.EnumerateRunes())
        {
            if (Rune.IsLetterOrDigit(rune))
            {
                run++;
                pendingWhitespace = false;
                continue;
            }

            tokens += (run + 3) / 4;
            run = 0;
            if (Rune.IsWhiteSpace(rune))
            {
                pendingWhitespace = true;
            }
            else
            {
                tokens++;
                pendingWhitespace = false;
            }
        }

        tokens += (run + 3) / 4;
        return pendingWhitespace ? tokens + 1 : tokens;
    }
}
