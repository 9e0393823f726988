using System.Security.Cryptography;

namespace MeterAgent.Attestation.Notes;

/// <summary>A new note key as its two encodings: the secret signer key and the public verifier key.</summary>
public sealed record NoteKeyPair(string SignerKey, string VerifierKey)
{
    public static NoteKeyPair Generate(string name) => Generate(name, NoteKeyId.Ed25519SignatureType);

    /// <summary>A new pair of <paramref name="signatureType"/>: 0x01 (note key) or 0x04 (a witness's cosigner key).</summary>
    public static NoteKeyPair Generate(string name, byte signatureType)
    {
        NoteKeyName.Require(name, nameof(name));
        var seed = RandomNumberGenerator.GetBytes(NoteSigner.SeedSize);
        try
        {
            var signer = NoteSigner.FromSeed(name, seed, signatureType);
            return new NoteKeyPair(signer.SignerKey, signer.Verifier.VerifierKey);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(seed);
        }
    }

    // A record prints its properties; this one holds a private key.
    public override string ToString() => $"NoteKeyPair {{ VerifierKey = {VerifierKey} }}";
}
