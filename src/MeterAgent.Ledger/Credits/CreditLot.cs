namespace MeterAgent.Ledger.Credits;

/// <summary>
/// Credits one delivery put in an account under one contract. Amounts in micro-units.
/// Invariant: Available + Pending + Redeemed = Delivered (+ admin corrections, which adjust Delivered).
/// </summary>
public sealed record CreditLot(
    string LotId,
    string AccountId,
    string ContractId,
    int ContractVersion,
    string DeliveryId,
    long DeliveredMicro,
    long AvailableMicro,
    long PendingMicro,
    long RedeemedMicro,
    DateTimeOffset WindowStart,
    DateTimeOffset WindowEnd,
    DateTimeOffset DeliveredAt)
{
    /// <summary>Available + Pending + Redeemed = Delivered, none negative: what every store keeps for every lot.</summary>
    public bool IsBalanced =>
        AvailableMicro >= 0 && PendingMicro >= 0 && RedeemedMicro >= 0
        && AvailableMicro + PendingMicro + RedeemedMicro == DeliveredMicro;
}
