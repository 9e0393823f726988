using System.Buffers.Text;
using System.Globalization;
using System.Text.Json;
using MeterAgent.Metering.Responses.Readers;

namespace MeterAgent.Metering.Usage;

/// <summary>
/// One token count from an upstream's usage object. Upstream numbers are untrusted: anything but a plain integer in
/// [0, <see cref="Max"/>] is brought into range (never to a cheaper reading than it claimed) and marked suspect.
/// </summary>
internal static class UsageCount
{
    /// <summary>10^12 tokens: far beyond any real response, and small enough that prices times it cannot overflow.</summary>
    public const long Max = 1_000_000_000_000;

    /// <summary>
    /// Absent or null: null, not suspect (Anthropic sends null cache counts). An integer: clamped to [0, Max]. A fraction,
    /// exponent or overflow: rounded up, then clamped. Any other kind: null. All but a plain in-range integer set
    /// <paramref name="suspect"/>.
    /// </summary>
    public static long? Read(ReadOnlySpan<byte> data, JsonRef value, ref bool suspect)
    {
        switch (value.Kind)
        {
            case JsonTokenType.None or JsonTokenType.Null:
                return null;
            case JsonTokenType.Number:
                var raw = value.Raw(data);
                if (Utf8Parser.TryParse(raw, out long integer, out var consumed) && consumed == raw.Length)
                {
                    return Clamp(integer, ref suspect);
                }

                suspect = true;
                if (double.TryParse(raw, NumberStyles.Float, CultureInfo.InvariantCulture, out var real) && !double.IsNaN(real))
                {
                    // Infinity (1e400) clamps like any huge value; a fraction is rounded up, not down.
                    return real >= Max ? Max : real <= 0 ? 0 : (long)Math.Ceiling(real);
                }

                return null;
            default:
                suspect = true;
                return null;
        }
    }

    public static long Clamp(long count, ref bool suspect)
    {
        if (count < 0)
        {
            suspect = true;
            return 0;
        }

        if (count > Max)
        {
            suspect = true;
            return Max;
        }

        return count;
    }
}
