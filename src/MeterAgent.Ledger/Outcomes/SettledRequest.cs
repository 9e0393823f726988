namespace MeterAgent.Ledger.Outcomes;

/// <summary>A request's outcome once it is durable: its record closed and, when it held credits, its redemption posted or voided.</summary>
public sealed record SettledRequest(RequestOutcome Outcome, RedemptionSummary? Redemption);
