namespace MeterAgent.Ledger.Credits;

/// <summary>Granted (possibly with an expected shortfall the policy allows), or refused by the policy.</summary>
public sealed record ReserveOutcome(bool Granted, Reservation? Reservation, string? RefusalReason);
