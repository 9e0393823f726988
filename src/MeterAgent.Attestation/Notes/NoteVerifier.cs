using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Crypto.Signers;

namespace MeterAgent.Attestation.Notes;

/// <summary>
/// A trusted Ed25519 note key, from its verifier key encoding <c>&lt;name&gt;+&lt;hex8 key ID&gt;+&lt;base64(0x01 ||
/// 32-byte public key)&gt;</c>, the form golang.org/x/mod/sumdb/note and the transparency tools exchange.
/// </summary>
public sealed class NoteVerifier
{
    public const int PublicKeySize = 32;
    public const int SignatureSize = 64;

    private readonly byte[] _publicKey;
    private readonly Ed25519PublicKeyParameters _key;

    private NoteVerifier(string name, byte signatureType, byte[] publicKey, Ed25519PublicKeyParameters key)
    {
        Name = name;
        SignatureType = signatureType;
        _publicKey = publicKey;
        _key = key;
        KeyId = NoteKeyId.Compute(name, signatureType, publicKey);
        VerifierKey = $"{name}+{NoteKeyId.Format(KeyId)}+{Convert.ToBase64String([signatureType, .. publicKey])}";
    }

    public string Name { get; }

    public uint KeyId { get; }

    /// <summary>
    /// <see cref="NoteKeyId.Ed25519SignatureType"/> for a note key (the log's), or
    /// <see cref="NoteKeyId.CosignatureV1SignatureType"/> for a witness's cosigner key: the same Ed25519 key over a
    /// different message, so the two are never interchangeable.
    /// </summary>
    public byte SignatureType { get; }

    public ReadOnlySpan<byte> PublicKey => _publicKey;

    /// <summary>The verifier key encoding (vkey): public, safe to publish and log.</summary>
    public string VerifierKey { get; }

    public static NoteVerifier FromPublicKey(string name, ReadOnlySpan<byte> publicKey) =>
        FromPublicKey(name, publicKey, NoteKeyId.Ed25519SignatureType);

    /// <summary>A key of <paramref name="signatureType"/>: 0x01 (note key) or 0x04 (cosigner key).</summary>
    public static NoteVerifier FromPublicKey(string name, ReadOnlySpan<byte> publicKey, byte signatureType)
    {
        NoteKeyName.Require(name, nameof(name));
        RequireSupported(signatureType, nameof(signatureType));
        if (publicKey.Length != PublicKeySize)
        {
            throw new ArgumentException(
                $"An Ed25519 public key is {PublicKeySize} bytes, not {publicKey.Length}.", nameof(publicKey));
        }

        var bytes = publicKey.ToArray();
        return new NoteVerifier(name, signatureType, bytes, ToParameters(bytes)
            ?? throw new ArgumentException("The bytes are not a valid Ed25519 public key.", nameof(publicKey)));
    }

    /// <summary>
    /// Reads a note verifier key (vkey) of signature type 0x01; a <see cref="FormatException"/> says which part is
    /// wrong. A cosigner key (0x04) is refused here: read it with <c>CosignatureV1.ParseVerifier</c>, so a witness key
    /// is never configured where the log's key belongs.
    /// </summary>
    public static NoteVerifier Parse(string verifierKey) => Parse(verifierKey, NoteKeyId.Ed25519SignatureType);

    /// <summary>Reads a verifier key whose signature type must be <paramref name="signatureType"/>.</summary>
    internal static NoteVerifier Parse(string verifierKey, byte signatureType)
    {
        ArgumentNullException.ThrowIfNull(verifierKey);

        // The base64 key may itself hold '+', so only the first two are separators.
        var parts = verifierKey.Split('+', 3);
        if (parts.Length != 3)
        {
            throw new FormatException("A verifier key is <name>+<hex8 key ID>+<base64 key>: it has fewer than three parts.");
        }

        var (name, idText, keyText) = (parts[0], parts[1], parts[2]);
        if (!NoteKeyName.IsValid(name))
        {
            throw new FormatException(
                $"Verifier key name {NoteKeyName.Quote(name)} is invalid: it must be non-empty and contain no spaces and no '+'.");
        }

        if (!NoteKeyId.TryParse(idText, out var keyId))
        {
            throw new FormatException($"Verifier key ID \"{idText}\" is not eight hex digits.");
        }

        var key = DecodeTypedKey(keyText, "verifier", "public key", signatureType);
        var parameters = ToParameters(key)
            ?? throw new FormatException("The verifier key's bytes are not a valid Ed25519 public key.");
        var verifier = new NoteVerifier(name, signatureType, key, parameters);
        if (verifier.KeyId != keyId)
        {
            throw new FormatException(
                $"Verifier key ID {idText} does not match its name and key (they hash to {NoteKeyId.Format(verifier.KeyId)}).");
        }

        return verifier;
    }

    /// <summary>Whether <paramref name="signature"/> (without the 4-byte key ID) is this key's signature of the message.</summary>
    public bool Verify(ReadOnlySpan<byte> message, ReadOnlySpan<byte> signature)
    {
        if (signature.Length != SignatureSize)
        {
            return false;
        }

        var verifier = new Ed25519Signer();
        verifier.Init(false, _key);
        verifier.BlockUpdate(message);
        return verifier.VerifySignature(signature.ToArray());
    }

    public override string ToString() => VerifierKey;

    /// <summary>Decodes <c>base64(type || 32 bytes)</c>, the key part of both encodings, for the expected type.</summary>
    internal static byte[] DecodeTypedKey(string text, string encoding, string what, byte signatureType)
    {
        if (!StrictBase64.TryDecode(text, out var bytes))
        {
            throw new FormatException($"The {encoding} key's key part is not standard padded base64.");
        }

        if (bytes[0] != signatureType)
        {
            throw new FormatException(signatureType == NoteKeyId.Ed25519SignatureType
                ? $"The {encoding} key's signature type is 0x{bytes[0]:x2}; only Ed25519 (0x01) is supported."
                : $"The {encoding} key's signature type is 0x{bytes[0]:x2}; a cosigner key has 0x{signatureType:x2}.");
        }

        if (bytes.Length != 1 + PublicKeySize)
        {
            throw new FormatException(
                $"The {encoding} key's Ed25519 {what} is {bytes.Length - 1} bytes, not {PublicKeySize}.");
        }

        return bytes[1..];
    }

    internal static void RequireSupported(byte signatureType, string paramName)
    {
        if (signatureType is not (NoteKeyId.Ed25519SignatureType or NoteKeyId.CosignatureV1SignatureType))
        {
            throw new ArgumentException($"Signature type 0x{signatureType:x2} is neither a note key (0x01) nor a cosigner key (0x04).", paramName);
        }
    }

    private static Ed25519PublicKeyParameters? ToParameters(byte[] publicKey)
    {
        try
        {
            // BouncyCastle refuses encodings that are not points on the curve.
            return new Ed25519PublicKeyParameters(publicKey);
        }
        catch (ArgumentException)
        {
            return null;
        }
    }
}
