namespace MeterAgent.Contracts.Deliveries;

/// <summary>
/// How a notice's time and audience claims are judged against this agent. The clock skew allows for the clearing
/// house's clock and this agent's disagreeing by a little; it applies to every comparison with the clock.
/// </summary>
public sealed record DeliveryClaimRules
{
    public static DeliveryClaimRules Default { get; } = new();

    /// <summary>How far iat may be ahead of this agent's clock, and how long after exp (or the max age) a notice still verifies.</summary>
    public TimeSpan ClockSkew { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// Notices issued longer ago than this are refused as expired. Null (the default): no limit, so a notice the clearing
    /// house re-sends later still gets its first answer; its window end already bounds what it can deliver.
    /// </summary>
    public TimeSpan? MaxAge { get; init; }

    /// <summary>This provider's id: a notice with an aud claim must name it. Null: every notice with an aud is refused.</summary>
    public string? Audience { get; init; }
}
