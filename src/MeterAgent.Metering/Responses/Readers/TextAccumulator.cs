using System.Text;

namespace MeterAgent.Metering.Responses.Readers;

/// <summary>Concatenated deltas of one text field.</summary>
internal sealed class TextAccumulator
{
    private StringBuilder? _builder;

    public void Append(string? text)
    {
        if (!string.IsNullOrEmpty(text))
        {
            (_builder ??= new StringBuilder()).Append(text);
        }
    }

    public void Set(string? text)
    {
        _builder?.Clear();
        Append(text);
    }

    public override string ToString() => _builder?.ToString() ?? string.Empty;
}
