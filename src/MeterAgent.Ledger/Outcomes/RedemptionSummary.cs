using MeterAgent.Ledger.Usage;

namespace MeterAgent.Ledger.Outcomes;

/// <summary>What a credited request redeemed, as the ledger settled it (all amounts in micro-units).</summary>
public sealed record RedemptionSummary(
    string? ContractId,
    int? ContractVersion,
    long? UnitsMicro,
    string? UnitsBasis,
    long RedeemedMicro,
    long OverageMicro,
    IReadOnlyList<string> LotIds)
{
    /// <summary>The redemption fields of a record the ledger has closed.</summary>
    public static RedemptionSummary FromRecord(UsageRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        return new RedemptionSummary(
            record.ContractId, record.ContractVersion, record.UnitsMicro, record.UnitsBasis,
            record.RedeemedMicro ?? 0, record.OverageMicro ?? 0, record.LotIds);
    }
}
