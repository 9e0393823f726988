namespace MeterAgent.Common;

/// <summary>
/// TLS on the management port (section "MeterAgent:ManagementTls"), and mutual TLS for whoever calls it: the clearing
/// house, the provider's admins and Prometheus. Off by default (the port listens on loopback); on when a certificate
/// is set. The bearer tokens are still required on top of a client certificate.
/// </summary>
public sealed class ManagementTlsOptions
{
    /// <summary>The management port's certificate (PEM, the chain may follow it).</summary>
    public string? CertificatePath { get; set; }

    /// <summary>Its private key (PEM); keep it 0600.</summary>
    public string? KeyPath { get; set; }

    /// <summary>
    /// CA certificates (PEM bundle). When set, every management connection must present a client certificate issued by
    /// one of them, for client authentication: mutual TLS.
    /// </summary>
    public string? ClientCaPath { get; set; }

    public bool Enabled => CertificatePath is { Length: > 0 };
}
