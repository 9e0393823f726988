namespace MeterAgent.Ledger.Credits;

/// <summary>Why a reservation was refused (<see cref="ReserveOutcome.RefusalReason"/>); stable codes for API errors.</summary>
public static class RefusalReasons
{
    /// <summary>Credits fall short and the account's policy is Reject (OpenAI's own code for it).</summary>
    public const string InsufficientQuota = "insufficient_quota";

    /// <summary>Credits fall short and the shortfall would take the account's overage past its AllowUpTo limit.</summary>
    public const string OverageLimitExceeded = "overage_limit_exceeded";
}
