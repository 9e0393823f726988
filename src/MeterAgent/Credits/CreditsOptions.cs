namespace MeterAgent.Credits;

/// <summary>Futures credits, section "Credits". Off by default: the agent then meters without redeeming.</summary>
public sealed class CreditsOptions
{
    public const string Section = "Credits";

    /// <summary>Redeem credits: every metered request reserves before it goes upstream and posts after.</summary>
    public bool Enabled { get; set; }

    /// <summary>Folder of contract spec files (*.json); relative paths are from the working directory.</summary>
    public string ContractsPath { get; set; } = "contracts";

    /// <summary>JWKS file with the clearing house's public keys; delivery notices must be signed by one of them.</summary>
    public string? TrustedKeysPath { get; set; }

    /// <summary>Max output assumed for the reservation when the request sets none.</summary>
    public long DefaultMaxOutputTokens { get; set; } = 4096;

    /// <summary>A pending reservation is released after this long (a crashed replica's come back). Longer than any request.</summary>
    public TimeSpan ReservationTimeout { get; set; } = TimeSpan.FromMinutes(30);
}
