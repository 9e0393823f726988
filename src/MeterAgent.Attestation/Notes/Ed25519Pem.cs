using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Security;

namespace MeterAgent.Attestation.Notes;

/// <summary>
/// An Ed25519 private key in PEM (PKCS#8, <c>-----BEGIN PRIVATE KEY-----</c>), as <c>openssl genpkey -algorithm
/// ed25519</c> writes it and as secret stores hand keys out. PEM carries no name, so the log's origin comes with it.
/// </summary>
public static class Ed25519Pem
{
    public static bool IsPem(string text) =>
        text is not null && text.TrimStart().StartsWith("-----BEGIN ", StringComparison.Ordinal);

    /// <summary>A note signer named <paramref name="name"/> from a PKCS#8 PEM Ed25519 private key.</summary>
    /// <exception cref="FormatException">Not a PEM private key, or not Ed25519.</exception>
    public static NoteSigner ToSigner(string name, string pem)
    {
        ArgumentNullException.ThrowIfNull(pem);
        if (!System.Security.Cryptography.PemEncoding.TryFind(pem, out var fields) || pem[fields.Label] is not "PRIVATE KEY")
        {
            throw new FormatException("expected a PEM block labelled PRIVATE KEY (PKCS#8), as openssl genpkey -algorithm ed25519 writes");
        }

        var der = Convert.FromBase64String(pem[fields.Base64Data].ToString());
        try
        {
            return PrivateKeyFactory.CreateKey(der) is Ed25519PrivateKeyParameters key
                ? NoteSigner.FromSeed(name, key.GetEncoded())
                : throw new FormatException("the PEM private key is not Ed25519");
        }
        catch (Exception ex) when (ex is ArgumentException or InvalidOperationException or IOException)
        {
            throw new FormatException("the PEM private key could not be read as PKCS#8", ex);
        }
    }
}
