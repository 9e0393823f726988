using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Server.Kestrel.Https;

namespace MeterAgent.Common;

/// <summary>Kestrel's TLS settings for the management port from <see cref="ManagementTlsOptions"/>.</summary>
internal static class ManagementTls
{
    // id-kp-clientAuth: a client certificate must be issued for client authentication.
    private const string ClientAuthentication = "1.3.6.1.5.5.7.3.2";

    public static HttpsConnectionAdapterOptions Create(ManagementTlsOptions options)
    {
        // Reloaded when the files change (ReloadingCertificate says how soon).
        var certificate = new ReloadingCertificate(options.CertificatePath!, options.KeyPath);
        var https = new HttpsConnectionAdapterOptions
        {
            ServerCertificateSelector = (_, _) => certificate.Current,
        };
        if (options.ClientCaPath is { Length: > 0 } caPath)
        {
            var authorities = new X509Certificate2Collection();
            authorities.ImportFromPemFile(caPath);
            https.ClientCertificateMode = ClientCertificateMode.RequireCertificate;
            https.ClientCertificateValidation = (certificate, _, _) => IssuedBy(certificate, authorities);
        }

        return https;
    }

    /// <summary>Whether the client's certificate chains to one of <paramref name="authorities"/> (and only them) for client authentication.</summary>
    public static bool IssuedBy(X509Certificate2 certificate, X509Certificate2Collection authorities)
    {
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(authorities);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.ApplicationPolicy.Add(new Oid(ClientAuthentication));
        return chain.Build(certificate);
    }

    /// <summary>Why the settings cannot work, naming the key; null when they can.</summary>
    public static string? Problem(ManagementTlsOptions options)
    {
        const string Prefix = $"{MeterAgentOptions.Section}:ManagementTls";
        if (!options.Enabled)
        {
            return options.ClientCaPath is { Length: > 0 } || options.KeyPath is { Length: > 0 }
                ? $"{Prefix}:CertificatePath must be set with KeyPath or ClientCaPath: mutual TLS needs the port to speak TLS first."
                : null;
        }

        if (CertificateProblem(Prefix, options.CertificatePath!, options.KeyPath) is { } problem)
        {
            return problem;
        }

        if (options.ClientCaPath is { Length: > 0 } caPath)
        {
            try
            {
                var authorities = new X509Certificate2Collection();
                authorities.ImportFromPemFile(caPath);
                if (authorities.Count == 0)
                {
                    return $"{Prefix}:ClientCaPath ({caPath}) holds no certificate.";
                }
            }
            catch (Exception ex) when (ex is CryptographicException or IOException or ArgumentException)
            {
                return $"{Prefix}:ClientCaPath could not be loaded as PEM certificates: {ex.Message}";
            }
        }

        return null;
    }

    /// <summary>Why a listener's certificate and key files do not load, naming the keys under <paramref name="prefix"/>; null when they do.</summary>
    public static string? CertificateProblem(string prefix, string certificatePath, string? keyPath)
    {
        try
        {
            using var certificate = X509Certificate2.CreateFromPemFile(certificatePath, keyPath);
            if (!certificate.HasPrivateKey)
            {
                return $"{prefix}:KeyPath must name the certificate's private key (PEM).";
            }
        }
        catch (Exception ex) when (ex is CryptographicException or IOException or ArgumentException or UnauthorizedAccessException)
        {
            return $"{prefix}:CertificatePath/KeyPath could not be loaded as a PEM certificate and key: {ex.Message}";
        }

        return null;
    }
}
