namespace MeterAgent.Ledger.Credits;

/// <summary>
/// A lot that can be drawn on now (its window is open and it holds something), as a store reads it for a draw.
/// Stores hand these to <see cref="Redemption"/> in redemption order: earliest window end, then oldest delivery, then
/// lot id.
/// </summary>
public readonly record struct EligibleLot(string LotId, string ContractId, long AvailableMicro);
