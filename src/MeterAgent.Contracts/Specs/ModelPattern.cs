namespace MeterAgent.Contracts.Specs;

/// <summary>
/// Glob matching of model names: '*' any run (also empty), '?' exactly one character, case-insensitive, whole name.
/// Hand-matched on spans because it runs for every request and every contract: no regex, no allocation.
/// </summary>
internal static class ModelPattern
{
    public static bool IsMatch(ReadOnlySpan<char> pattern, ReadOnlySpan<char> name)
    {
        var p = 0;
        var n = 0;

        // Where to resume after the last '*': a later mismatch lets that star swallow one more character.
        // One backtrack point is enough because a later star always subsumes an earlier one.
        var starPattern = -1;
        var starName = 0;

        while (n < name.Length)
        {
            if (p < pattern.Length && pattern[p] == '*')
            {
                starPattern = ++p;
                starName = n;
            }
            else if (p < pattern.Length && (pattern[p] == '?' || SameLetter(pattern[p], name[n])))
            {
                p++;
                n++;
            }
            else if (starPattern >= 0)
            {
                p = starPattern;
                n = ++starName;
            }
            else
            {
                return false;
            }
        }

        while (p < pattern.Length && pattern[p] == '*')
        {
            p++;
        }

        return p == pattern.Length;
    }

    private static bool SameLetter(char a, char b) => a == b || char.ToUpperInvariant(a) == char.ToUpperInvariant(b);
}
