using System.Buffers;
using System.Text;

namespace MeterAgent.Metering.Responses.Readers;

/// <summary>
/// Unescapes JSON string contents that Utf8JsonReader has already validated. Written out rather than taken from
/// Utf8JsonReader.CopyString because that throws on a lone surrogate escape, and a model's output may split a
/// surrogate pair over two deltas ("\ud83d" then "\ude00"): appended code unit by code unit the pair joins up again,
/// as it does for the client that concatenates the deltas.
/// </summary>
internal static class JsonText
{
    private const int StackLimit = 256;

    /// <summary>The most chars <paramref name="utf8"/> can unescape to: one per byte at most, escapes only shrink.</summary>
    public static int MaxChars(ReadOnlySpan<byte> utf8) => utf8.Length;

    /// <summary>Writes the unescaped text into <paramref name="destination"/> (at least <see cref="MaxChars"/> long); returns the count.</summary>
    public static int Unescape(ReadOnlySpan<byte> utf8, bool escaped, Span<char> destination)
    {
        if (!escaped)
        {
            // Invalid UTF-8 becomes U+FFFD rather than failing the tap: metering must not break a response.
            return Encoding.UTF8.GetChars(utf8, destination);
        }

        var written = 0;
        while (true)
        {
            var backslash = utf8.IndexOf((byte)'\\');
            if (backslash < 0)
            {
                return written + Encoding.UTF8.GetChars(utf8, destination[written..]);
            }

            written += Encoding.UTF8.GetChars(utf8[..backslash], destination[written..]);
            var kind = utf8[backslash + 1];
            if (kind == (byte)'u')
            {
                var hex = utf8.Slice(backslash + 2, 4);
                destination[written++] = (char)((Hex(hex[0]) << 12) | (Hex(hex[1]) << 8) | (Hex(hex[2]) << 4) | Hex(hex[3]));
                utf8 = utf8[(backslash + 6)..];
            }
            else
            {
                destination[written++] = kind switch
                {
                    (byte)'b' => '\b',
                    (byte)'f' => '\f',
                    (byte)'n' => '\n',
                    (byte)'r' => '\r',
                    (byte)'t' => '\t',
                    _ => (char)kind, // \" \\ \/
                };
                utf8 = utf8[(backslash + 2)..];
            }
        }
    }

    public static string ToString(ReadOnlySpan<byte> utf8, bool escaped)
    {
        if (utf8.IsEmpty)
        {
            return string.Empty;
        }

        if (!escaped)
        {
            return Encoding.UTF8.GetString(utf8);
        }

        char[]? rented = null;
        var buffer = utf8.Length <= StackLimit ? stackalloc char[StackLimit] : (rented = ArrayPool<char>.Shared.Rent(utf8.Length));
        var text = new string(buffer[..Unescape(utf8, escaped, buffer)]);
        if (rented is not null)
        {
            ArrayPool<char>.Shared.Return(rented);
        }

        return text;
    }

    // The reader has checked these are hex digits.
    private static int Hex(byte digit) => digit <= '9' ? digit - '0' : (digit | 0x20) - 'a' + 10;
}
