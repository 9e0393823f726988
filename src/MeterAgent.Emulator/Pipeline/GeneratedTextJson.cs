using System.Buffers;
using System.Text;
using System.Text.Json;

namespace MeterAgent.Emulator.Pipeline;

/// <summary>
/// Writes generated text as raw UTF-8. Even the relaxed encoder escapes characters outside the BMP
/// (emoji become \uD83D\uDE80), and the real APIs send them as 4-byte UTF-8, which a meter must handle
/// when a chunk boundary splits them. This is only sound for text from <see cref="Text.Vocabulary"/>,
/// which has no quote, backslash or control character (a test holds it to that).
/// </summary>
internal static class GeneratedTextJson
{
    public static void WriteGeneratedText(this Utf8JsonWriter json, ReadOnlySpan<byte> propertyName, ReadOnlySpan<char> text)
    {
        json.WritePropertyName(propertyName);
        var length = Encoding.UTF8.GetMaxByteCount(text.Length) + 2;
        byte[]? rented = null;
        var buffer = length <= 512 ? stackalloc byte[length] : (rented = ArrayPool<byte>.Shared.Rent(length));
        buffer[0] = (byte)'"';
        var written = Encoding.UTF8.GetBytes(text, buffer[1..]);
        buffer[written + 1] = (byte)'"';
        json.WriteRawValue(buffer[..(written + 2)], skipInputValidation: true);
        if (rented is not null)
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }
}
