namespace MeterAgent.Ledger.Credits;

/// <summary>One contract's credits over every account (micro-units): available in open-window lots, and pending in reservations.</summary>
public sealed record ContractBalance(string ContractId, long AvailableMicro, long PendingMicro);
