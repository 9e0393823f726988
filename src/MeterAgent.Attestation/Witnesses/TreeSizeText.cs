using System.Globalization;
using System.Text;

namespace MeterAgent.Attestation.Witnesses;

/// <summary>
/// A tree size as the witness protocol writes it: ASCII decimal without sign or leading zeros (<c>0</c> for zero). As
/// the body of a 409 answer it is followed by a newline and served as <see cref="ContentType"/>.
/// </summary>
public static class TreeSizeText
{
    /// <summary>The content type of a witness's 409 answer, whose body is its latest cosigned size.</summary>
    public const string ContentType = "text/x.tlog.size";

    public static string Format(long size)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(size);
        return size.ToString(CultureInfo.InvariantCulture);
    }

    /// <summary>The body of a 409 answer: the size and a newline.</summary>
    public static byte[] FormatBody(long size) => Encoding.ASCII.GetBytes(Format(size) + "\n");

    public static bool TryParse(string text, out long size)
    {
        ArgumentNullException.ThrowIfNull(text);
        size = 0;
        return text.Length > 0
            && text.All(char.IsAsciiDigit)
            && (text.Length == 1 || text[0] != '0')
            && long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out size);
    }

    /// <summary>Reads a 409 body: one size and its newline, nothing else.</summary>
    public static bool TryParseBody(ReadOnlySpan<byte> body, out long size)
    {
        size = 0;
        return body.Length > 1 && body[^1] == (byte)'\n' && body[..^1].IndexOfAnyExceptInRange((byte)'0', (byte)'9') < 0
            && TryParse(Encoding.ASCII.GetString(body[..^1]), out size);
    }
}
