namespace MeterAgent.Metering.Responses.Readers;

/// <summary>The chars of output text one response may still keep, shared by all its <see cref="TextAccumulator"/>s.</summary>
internal sealed class TextBudget(int maxChars)
{
    private int _used;

    /// <summary>Some text was dropped because the budget was spent.</summary>
    public bool Exceeded { get; private set; }

    public bool TryTake(int chars)
    {
        if (chars > maxChars - _used)
        {
            Exceeded = true;
            return false;
        }

        _used += chars;
        return true;
    }

    public void Give(int chars) => _used -= chars;
}
