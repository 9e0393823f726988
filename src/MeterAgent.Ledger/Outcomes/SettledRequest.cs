using MeterAgent.Ledger.Usage;

namespace MeterAgent.Ledger.Outcomes;

/// <summary>A request's outcome once it is durable: its record closed and, when it held credits, its redemption posted or voided.</summary>
/// <param name="Outcome">how the request ended</param>
/// <param name="Redemption">what its credits paid, when it held a reservation</param>
/// <param name="Record">the closed record exactly as written (redemption fields included): observers read it, never change it</param>
public sealed record SettledRequest(RequestOutcome Outcome, RedemptionSummary? Redemption, UsageRecord Record);
