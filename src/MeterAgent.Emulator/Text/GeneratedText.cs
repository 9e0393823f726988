namespace MeterAgent.Emulator.Text;

/// <summary>
/// Visible output text plus the char offset where each native token ends, so stream deltas are slices of
/// one string rather than new strings.
/// </summary>
internal sealed class GeneratedText(string text, int[] tokenEnds)
{
    public string Text { get; } = text;

    public int TokenCount => tokenEnds.Length;

    /// <summary>The text of tokens [start, start + count).</summary>
    public ReadOnlySpan<char> Slice(int start, int count)
    {
        var from = start == 0 ? 0 : tokenEnds[start - 1];
        var to = tokenEnds[start + count - 1];
        return Text.AsSpan(from, to - from);
    }
}
