namespace MeterAgent.Credits;

/// <summary>How delivery notices are judged and their trusted keys kept fresh; bound from the same "Credits" section.</summary>
public sealed class DeliveryOptions
{
    /// <summary>How far the clearing house's clock may be from this agent's: iat ahead, exp and max age passed.</summary>
    public TimeSpan DeliveryClockSkew { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Refuse notices issued longer ago than this; unset (the default) means no limit, so re-sent notices keep their answer.</summary>
    public TimeSpan? DeliveryMaxAge { get; set; }

    /// <summary>This provider's id as the clearing house names it: a notice with an aud claim must name it.</summary>
    public string? ProviderId { get; set; }

    /// <summary>How often the trusted keys file is re-read when no file-change event arrives (missed events, network file systems).</summary>
    public TimeSpan TrustedKeysPollInterval { get; set; } = TimeSpan.FromSeconds(30);
}
