namespace MeterAgent.Common;

/// <summary>
/// TLS on the client port (section "MeterAgent:ProxyTls"). Off by default (a TLS-terminating load balancer or ingress
/// usually sits in front); on when a certificate is set. The files are reloaded when they change, as the management
/// port's are.
/// </summary>
public sealed class ProxyTlsOptions
{
    /// <summary>The client port's certificate (PEM, the chain may follow it).</summary>
    public string? CertificatePath { get; set; }

    /// <summary>Its private key (PEM); keep it 0600. Unset: the key follows the certificate in CertificatePath.</summary>
    public string? KeyPath { get; set; }

    public bool Enabled => CertificatePath is { Length: > 0 };
}
