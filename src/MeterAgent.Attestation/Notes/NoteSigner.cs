using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Crypto.Signers;

namespace MeterAgent.Attestation.Notes;

/// <summary>
/// An Ed25519 note signing key, from its signer key encoding <c>PRIVATE+KEY+&lt;name&gt;+&lt;hex8 key ID&gt;+&lt;base64(0x01
/// || 32-byte seed)&gt;</c>. The literal prefix keeps a private key from being mistaken for (and published as) a
/// verifier key. <see cref="ToString"/> never shows the seed.
/// </summary>
public sealed class NoteSigner
{
    public const int SeedSize = 32;
    private const string Prefix = "PRIVATE+KEY+";

    private readonly Ed25519PrivateKeyParameters _key;

    private NoteSigner(string name, byte[] seed, byte signatureType)
    {
        _key = new Ed25519PrivateKeyParameters(seed);
        Verifier = NoteVerifier.FromPublicKey(name, _key.GeneratePublicKey().GetEncoded(), signatureType);
    }

    public string Name => Verifier.Name;

    public uint KeyId => Verifier.KeyId;

    /// <summary>The matching public key, to hand to whoever verifies.</summary>
    public NoteVerifier Verifier { get; }

    /// <summary>0x01 for the log's note key, 0x04 for a witness's cosigner key (see <see cref="NoteVerifier.SignatureType"/>).</summary>
    public byte SignatureType => Verifier.SignatureType;

    /// <summary>The signer key encoding (skey): secret.</summary>
    public string SignerKey =>
        $"{Prefix}{Name}+{NoteKeyId.Format(KeyId)}+{Convert.ToBase64String([SignatureType, .. _key.GetEncoded()])}";

    /// <summary>A signer from a 32-byte RFC 8032 seed (the private key as Go and BouncyCastle store it).</summary>
    public static NoteSigner FromSeed(string name, ReadOnlySpan<byte> seed) =>
        FromSeed(name, seed, NoteKeyId.Ed25519SignatureType);

    /// <summary>A signer of <paramref name="signatureType"/>: 0x01 (note key) or 0x04 (cosigner key).</summary>
    public static NoteSigner FromSeed(string name, ReadOnlySpan<byte> seed, byte signatureType)
    {
        NoteKeyName.Require(name, nameof(name));
        NoteVerifier.RequireSupported(signatureType, nameof(signatureType));
        if (seed.Length != SeedSize)
        {
            throw new ArgumentException($"An Ed25519 seed is {SeedSize} bytes, not {seed.Length}.", nameof(seed));
        }

        return new NoteSigner(name, seed.ToArray(), signatureType);
    }

    /// <summary>
    /// Reads a note signer key (skey) of signature type 0x01; a <see cref="FormatException"/> says which part is wrong,
    /// never the key. A cosigner key (0x04) is refused: read it with <c>CosignatureV1.ParseSigner</c>.
    /// </summary>
    public static NoteSigner Parse(string signerKey) => Parse(signerKey, NoteKeyId.Ed25519SignatureType);

    /// <summary>Reads a signer key whose signature type must be <paramref name="signatureType"/>.</summary>
    internal static NoteSigner Parse(string signerKey, byte signatureType)
    {
        ArgumentNullException.ThrowIfNull(signerKey);
        if (!signerKey.StartsWith(Prefix, StringComparison.Ordinal))
        {
            throw new FormatException("A signer key starts with \"PRIVATE+KEY+\".");
        }

        var parts = signerKey[Prefix.Length..].Split('+', 3);
        if (parts.Length != 3)
        {
            throw new FormatException(
                "A signer key is PRIVATE+KEY+<name>+<hex8 key ID>+<base64 seed>: it has fewer than three parts after the prefix.");
        }

        var (name, idText, keyText) = (parts[0], parts[1], parts[2]);
        if (!NoteKeyName.IsValid(name))
        {
            throw new FormatException(
                $"Signer key name {NoteKeyName.Quote(name)} is invalid: it must be non-empty and contain no spaces and no '+'.");
        }

        if (!NoteKeyId.TryParse(idText, out var keyId))
        {
            throw new FormatException($"Signer key ID \"{idText}\" is not eight hex digits.");
        }

        var signer = new NoteSigner(name, NoteVerifier.DecodeTypedKey(keyText, "signer", "seed", signatureType), signatureType);

        // The ID hashes the public key, so it can only be checked once the public key is derived from the seed.
        if (signer.KeyId != keyId)
        {
            throw new FormatException(
                $"Signer key ID {idText} does not match its name and key (they hash to {NoteKeyId.Format(signer.KeyId)}).");
        }

        return signer;
    }

    /// <summary>The 64-byte Ed25519 signature of <paramref name="message"/> (deterministic: RFC 8032).</summary>
    public byte[] Sign(ReadOnlySpan<byte> message)
    {
        var signer = new Ed25519Signer();
        signer.Init(true, _key);
        signer.BlockUpdate(message);
        return signer.GenerateSignature();
    }

    public override string ToString() => $"signer {Name}+{NoteKeyId.Format(KeyId)}";
}
