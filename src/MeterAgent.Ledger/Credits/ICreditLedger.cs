using MeterAgent.Contracts.Deliveries;
using MeterAgent.Ledger.Usage;

namespace MeterAgent.Ledger.Credits;

/// <summary>
/// Credit lots and two-phase reservations. Every operation is atomic and idempotent by its id, so it maps onto one
/// Redis Lua script in distributed mode.
/// </summary>
public interface ICreditLedger
{
    /// <summary>Applies a verified delivery exactly once (by delivery id; same payload digest = replay).</summary>
    Task<DeliveryOutcome> ApplyDeliveryAsync(DeliveryNotice notice, DateTimeOffset now, CancellationToken cancellationToken = default);

    /// <summary>
    /// Reserves the estimate from open lots of eligible contracts: earliest window end first, then oldest delivery.
    /// The account's overage policy decides when credits fall short. The same reservation id again returns the first outcome.
    /// </summary>
    Task<ReserveOutcome> ReserveAsync(ReserveRequest request, CancellationToken cancellationToken = default);

    /// <summary>
    /// Posts the actual amount (in the reservation's contract units): up to the reserved amount is redeemed across its
    /// lots in draw order, the rest of the reservation released; any excess is overage. Idempotent: a resolved
    /// reservation returns its final state.
    /// </summary>
    Task<Reservation> PostAsync(string reservationId, long actualMicro, CancellationToken cancellationToken = default);

    /// <summary>Releases everything reserved (upstream failure). Idempotent.</summary>
    Task<Reservation> VoidAsync(string reservationId, CancellationToken cancellationToken = default);

    /// <summary>
    /// Ends a request in one atomic write: posts <paramref name="actualMicro"/> (or voids the reservation when null),
    /// using the draws of the <paramref name="reservation"/> the caller was granted (draws never change; its state is
    /// checked in the store),
    /// fills the record's redemption fields from the outcome (contract, redeemed, overage, lots; the caller sets
    /// UnitsMicro and ContractVersion) and closes the record. Idempotent like post and void: a resolved reservation
    /// stays as it is and the record gets its final state, except that a reservation found expired is still posted:
    /// <paramref name="actualMicro"/> is redeemed from what its contract's lots hold now, the rest is overage.
    /// </summary>
    Task<Reservation> SettleAndCloseAsync(Reservation reservation, long? actualMicro, UsageRecord record, CancellationToken cancellationToken = default);

    /// <summary>
    /// Moves the deadline of these pending reservations (requests still in flight) to <paramref name="expiresAt"/>, so a
    /// long request keeps the credits it reserved; resolved or unknown ids are skipped. Returns how many were renewed.
    /// </summary>
    Task<int> RenewAsync(IReadOnlyCollection<string> reservationIds, DateTimeOffset expiresAt, CancellationToken cancellationToken = default);

    /// <summary>Releases pending reservations whose ExpiresAt has passed (a crashed replica's); returns how many.</summary>
    Task<int> ExpireAsync(DateTimeOffset now, CancellationToken cancellationToken = default);

    Task<Reservation?> GetReservationAsync(string reservationId, CancellationToken cancellationToken = default);

    Task<IReadOnlyList<CreditLot>> GetLotsAsync(string accountId, CancellationToken cancellationToken = default);

    /// <summary>
    /// The account's pending reservations (the requests in flight), oldest first (by creation time, then id), at most
    /// <paramref name="limit"/> (at least 1). A read for the operator console, off the request path.
    /// </summary>
    Task<IReadOnlyList<Reservation>> GetPendingReservationsAsync(string accountId, int limit, CancellationToken cancellationToken = default);

    Task<OveragePolicy> GetPolicyAsync(string accountId, CancellationToken cancellationToken = default);

    Task SetPolicyAsync(string accountId, OveragePolicy policy, CancellationToken cancellationToken = default);

    /// <summary>The account's overage not yet billed (sum of posted overage).</summary>
    Task<long> GetOverageMicroAsync(string accountId, CancellationToken cancellationToken = default);

    /// <summary>
    /// What the account's pending reservations (its requests in flight) were granted beyond their credits: counted with
    /// the posted overage against an <see cref="OveragePolicyKind.AllowUpTo"/> limit, and given back as each settles.
    /// </summary>
    Task<long> GetOverageHeldMicroAsync(string accountId, CancellationToken cancellationToken = default);

    /// <summary>
    /// Per contract, the units available in lots whose window is open at <paramref name="now"/> and the units held by
    /// pending reservations, over every account: what the credit gauges show, read every few seconds off the request path.
    /// </summary>
    Task<IReadOnlyList<ContractBalance>> GetContractBalancesAsync(DateTimeOffset now, CancellationToken cancellationToken = default);

    /// <summary>
    /// Provider's correction of a lot's delivered amount (positive or negative), kept with its reason for audit.
    /// Refused (null) when it would make the lot's available amount negative.
    /// </summary>
    Task<CreditLot?> CorrectAsync(string lotId, long deltaMicro, string reason, DateTimeOffset now, CancellationToken cancellationToken = default);
}
