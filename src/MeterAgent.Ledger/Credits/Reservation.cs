namespace MeterAgent.Ledger.Credits;

public enum ReservationState
{
    Pending,
    Posted,
    Voided,
    Expired,
}

/// <summary>One lot's share of a reservation.</summary>
public sealed record LotDraw(string LotId, long ReservedMicro, long PostedMicro);

/// <summary>
/// A two-phase reservation: pending until posted (actual ≤ reserved is redeemed, the rest released, any excess is
/// overage), voided, or expired. A request redeems under one contract: the contract of the first eligible lot in
/// redemption order; it may draw on several of that contract's lots.
/// </summary>
public sealed record Reservation(
    string ReservationId,
    string AccountId,
    string? ContractId,
    ReservationState State,
    long ReservedMicro,
    long PostedMicro,
    long OverageMicro,
    IReadOnlyList<LotDraw> Draws,
    DateTimeOffset CreatedAt,
    DateTimeOffset ExpiresAt);
