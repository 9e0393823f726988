namespace MeterAgent.Ledger.Credits;

public enum OveragePolicyKind
{
    /// <summary>No credit, no service: 402 insufficient_quota before anything goes upstream.</summary>
    Reject,

    /// <summary>Served and recorded as overage, for the provider to bill at spot.</summary>
    Allow,

    /// <summary>Served while the account's outstanding overage stays within LimitMicro.</summary>
    AllowUpTo,
}

public sealed record OveragePolicy(OveragePolicyKind Kind, long LimitMicro = 0)
{
    public static OveragePolicy Reject { get; } = new(OveragePolicyKind.Reject);
}
