namespace MeterAgent.Contracts.Deliveries;

/// <summary>
/// What a clearing house signs into a delivery notice (the payload before it is verified). The signer writes
/// <see cref="Quantity"/> as a JSON string so no decimal amount ever passes through a binary float.
/// </summary>
public sealed record DeliveryNoticeClaims(
    string DeliveryId,
    string ContractId,
    int ContractVersion,
    string AccountId,
    decimal Quantity,
    DateTimeOffset WindowStart,
    DateTimeOffset WindowEnd,
    DateTimeOffset IssuedAt);
