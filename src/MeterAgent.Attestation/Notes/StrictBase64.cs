namespace MeterAgent.Attestation.Notes;

/// <summary>
/// Standard base64 (RFC 4648 section 4) with padding, and nothing else. Convert.FromBase64String skips white space,
/// which would let "Bad Name AAAA" in a signature line decode as if the name were "Bad"; a format that splits on
/// spaces needs a decoder that refuses them. Re-encoding and comparing also refuses non-zero padding bits, so each
/// value has one spelling.
/// </summary>
internal static class StrictBase64
{
    public static bool TryDecode(string text, out byte[] bytes)
    {
        bytes = [];
        if (text.Length == 0 || text.Length % 4 != 0)
        {
            return false;
        }

        foreach (var c in text)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '+' or '/' or '='))
            {
                return false;
            }
        }

        var buffer = new byte[text.Length / 4 * 3];
        if (!Convert.TryFromBase64String(text, buffer, out var written))
        {
            return false;
        }

        bytes = buffer.AsSpan(0, written).ToArray();
        return Convert.ToBase64String(bytes) == text;
    }
}
