using Microsoft.AspNetCore.Server.Kestrel.Https;

namespace MeterAgent.Common;

/// <summary>Kestrel's TLS settings for the client port from <see cref="ProxyTlsOptions"/>.</summary>
internal static class ProxyTls
{
    private const string Prefix = $"{MeterAgentOptions.Section}:ProxyTls";

    public static HttpsConnectionAdapterOptions Create(ProxyTlsOptions options)
    {
        var certificate = new ReloadingCertificate(options.CertificatePath!, options.KeyPath);
        return new HttpsConnectionAdapterOptions { ServerCertificateSelector = (_, _) => certificate.Current };
    }

    /// <summary>Why the settings cannot work, naming the key; null when they can.</summary>
    public static string? Problem(ProxyTlsOptions options)
    {
        if (!options.Enabled)
        {
            return options.KeyPath is { Length: > 0 }
                ? $"{Prefix}:CertificatePath must be set with KeyPath."
                : null;
        }

        return ManagementTls.CertificateProblem(Prefix, options.CertificatePath!, options.KeyPath);
    }
}
