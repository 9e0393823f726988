using System.Buffers.Binary;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace MeterAgent.Attestation.Notes;

/// <summary>
/// The 32-bit key ID of c2sp.org/signed-note: SHA-256(key name || 0x0A || signature type || public key)[:4], big-endian.
/// It names a key in a signature line; it is an identifier, not a security check (the verifier holds the real key).
/// </summary>
public static class NoteKeyId
{
    /// <summary>The signature type byte of Ed25519 notes, the only type this log signs or verifies.</summary>
    public const byte Ed25519SignatureType = 0x01;

    public static uint Compute(string name, ReadOnlySpan<byte> ed25519PublicKey)
    {
        NoteKeyName.Require(name, nameof(name));
        var nameBytes = Encoding.UTF8.GetBytes(name);
        var input = new byte[nameBytes.Length + 2 + ed25519PublicKey.Length];
        nameBytes.CopyTo(input, 0);
        input[nameBytes.Length] = (byte)'\n';
        input[nameBytes.Length + 1] = Ed25519SignatureType;
        ed25519PublicKey.CopyTo(input.AsSpan(nameBytes.Length + 2));
        return BinaryPrimitives.ReadUInt32BigEndian(SHA256.HashData(input));
    }

    /// <summary>Eight lowercase hex digits, as the key encodings write it.</summary>
    public static string Format(uint keyId) => keyId.ToString("x8", CultureInfo.InvariantCulture);

    /// <summary>Exactly eight hex digits; no sign, no prefix, no white space.</summary>
    internal static bool TryParse(string text, out uint keyId)
    {
        keyId = 0;
        return text.Length == 8
            && text.All(char.IsAsciiHexDigit)
            && uint.TryParse(text, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out keyId);
    }
}
