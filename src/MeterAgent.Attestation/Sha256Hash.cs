namespace MeterAgent.Attestation;

/// <summary>The one hash of the log (RFC 6962 with SHA-256): 32 bytes.</summary>
public static class Sha256Hash
{
    public const int Size = 32;
}
