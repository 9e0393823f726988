namespace MeterAgent.Contracts.Deliveries;

/// <summary>A verified delivery notice from the clearing house: credits for one account under one contract.</summary>
public sealed record DeliveryNotice(
    string DeliveryId,
    string ContractId,
    int ContractVersion,
    string AccountId,
    long QuantityMicro,
    DateTimeOffset WindowStart,
    DateTimeOffset WindowEnd,
    DateTimeOffset IssuedAt,
    string PayloadSha256);
