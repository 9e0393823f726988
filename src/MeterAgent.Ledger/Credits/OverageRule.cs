namespace MeterAgent.Ledger.Credits;

/// <summary>The account's overage policy deciding a reservation its credits do not cover.</summary>
public static class OverageRule
{
    /// <summary>
    /// Null to serve the shortfall, or why not (a <see cref="RefusalReasons"/> code).
    /// <paramref name="outstandingOverageMicro"/> is the overage already posted plus what the account's pending
    /// reservations were granted beyond their credits (requests in flight), so requests reserved at once cannot together
    /// pass the limit. It is asked only under <see cref="OveragePolicyKind.AllowUpTo"/>, so a store reads it only when the
    /// decision needs it.
    /// </summary>
    public static string? Refusal(OveragePolicy policy, long shortfallMicro, Func<long> outstandingOverageMicro)
    {
        ArgumentNullException.ThrowIfNull(policy);
        ArgumentNullException.ThrowIfNull(outstandingOverageMicro);
        switch (policy.Kind)
        {
            case OveragePolicyKind.Allow:
                return null;
            case OveragePolicyKind.AllowUpTo:
                // Compared as headroom: overage + shortfall could wrap past long.MaxValue on an absurd estimate.
                return Math.Max(shortfallMicro, 0) <= policy.LimitMicro - outstandingOverageMicro()
                    ? null
                    : RefusalReasons.OverageLimitExceeded;
            default:
                return RefusalReasons.InsufficientQuota;
        }
    }
}
