namespace MeterAgent.Ledger.Credits;

/// <summary>
/// Reserve credits for one request before it goes upstream. <see cref="EstimateMicroByContract"/> holds, for every
/// contract that covers the requested model, what the request would cost in that contract's units.
/// </summary>
public sealed record ReserveRequest(
    string ReservationId,
    string AccountId,
    IReadOnlyDictionary<string, long> EstimateMicroByContract,
    DateTimeOffset Now,
    DateTimeOffset ExpiresAt);
