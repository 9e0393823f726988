using MeterAgent.Attestation.Notes;

namespace MeterAgent.Log;

/// <summary>
/// The log's signing key from Attestation:SigningKeyPath: a C2SP signer key (<c>PRIVATE+KEY+name+hash+base64</c>), or
/// an Ed25519 private key in PKCS#8 PEM as a secret store or <c>openssl genpkey -algorithm ed25519</c> gives it. PEM
/// carries no name, so then Attestation:Origin names the log.
/// </summary>
internal static class LogSigningKey
{
    /// <exception cref="FormatException">What is wrong with the file, never its content.</exception>
    public static NoteSigner Load(LogOptions options)
    {
        var text = File.ReadAllText(options.SigningKeyPath!).Trim();
        if (Ed25519Pem.IsPem(text))
        {
            return options.Origin is { Length: > 0 } origin
                ? Ed25519Pem.ToSigner(origin, text)
                : throw new FormatException($"a PEM key carries no name: set {LogOptions.Section}:Origin to the log's origin (e.g. provider.example/log)");
        }

        var signer = NoteSigner.Parse(text);
        return options.Origin is { Length: > 0 } named && named != signer.Name
            ? throw new FormatException($"the key is named '{signer.Name}' but {LogOptions.Section}:Origin is '{named}'")
            : signer;
    }
}
