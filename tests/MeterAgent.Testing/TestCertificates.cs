using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace MeterAgent.Testing;

/// <summary>Self-signed server certificates for 127.0.0.1, made in the test, and their PEM files.</summary>
public static class TestCertificates
{
    /// <summary>A fresh ECDSA P-256 certificate for serverAuth on 127.0.0.1, with its private key.</summary>
    public static X509Certificate2 Server(string subject = "CN=meteragent-test")
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddHours(-1), DateTimeOffset.UtcNow.AddDays(7));
    }

    /// <summary>Writes the certificate and key as PEM (the key first to a temporary name, then moved, as a renewal tool does).</summary>
    public static (string CertificatePath, string KeyPath) WritePem(X509Certificate2 certificate, string certificatePath, string keyPath)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        using var key = certificate.GetECDsaPrivateKey() ?? throw new InvalidOperationException("no ECDSA private key");
        Replace(keyPath, key.ExportPkcs8PrivateKeyPem());
        Replace(certificatePath, certificate.ExportCertificatePem());
        return (certificatePath, keyPath);
    }

    private static void Replace(string path, string content)
    {
        var temporary = path + ".tmp";
        File.WriteAllText(temporary, content);
        File.Move(temporary, path, overwrite: true);
    }

    /// <summary>An HTTPS client that accepts any server certificate and reports each one it was shown.</summary>
    public static HttpClient Observing(string baseUrl, Action<string> thumbprint)
    {
        var handler = new SocketsHttpHandler
        {
            // One connection per client: a new client is a new handshake.
            SslOptions = { RemoteCertificateValidationCallback = (_, presented, _, _) =>
            {
                if (presented is not null)
                {
                    thumbprint(presented.GetCertHashString());
                }

                return true;
            } },
        };
        return new HttpClient(handler) { BaseAddress = new Uri(baseUrl.Replace("http://", "https://", StringComparison.Ordinal)), Timeout = TimeSpan.FromSeconds(30) };
    }
}
