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
    /// <summary>The signature type byte of Ed25519 notes: what the log signs its checkpoints with.</summary>
    public const byte Ed25519SignatureType = 0x01;

    /// <summary>
    /// The signature type byte of timestamped Ed25519 checkpoint cosignatures (c2sp.org/tlog-cosignature): what a
    /// witness signs with. A different type gives the same key a different ID, so a cosignature can never be taken
    /// for a plain note signature.
    /// </summary>
    public const byte CosignatureV1SignatureType = 0x04;

    /// <summary>The key ID of an Ed25519 note key (signature type 0x01).</summary>
    public static uint Compute(string name, ReadOnlySpan<byte> ed25519PublicKey) =>
        Compute(name, Ed25519SignatureType, ed25519PublicKey);

    /// <summary>The key ID of a key of <paramref name="signatureType"/> (0x01 note key, 0x04 cosigner key).</summary>
    public static uint Compute(string name, byte signatureType, ReadOnlySpan<byte> publicKey)
    {
        NoteKeyName.Require(name, nameof(name));
        var nameBytes = Encoding.UTF8.GetBytes(name);
        var input = new byte[nameBytes.Length + 2 + publicKey.Length];
        nameBytes.CopyTo(input, 0);
        input[nameBytes.Length] = (byte)'\n';
        input[nameBytes.Length + 1] = signatureType;
        publicKey.CopyTo(input.AsSpan(nameBytes.Length + 2));
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
