using MeterAgent.Ledger.Usage;

namespace MeterAgent.Ledger.Counters;

/// <summary>
/// What live counters are kept per: the account, the contract the request was redeemed under ("" when none) and the
/// model (the served model, else the requested one, else "").
/// </summary>
public readonly record struct UsageCounterKey(string AccountId, string ContractId, string Model)
{
    public static UsageCounterKey Of(UsageRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        return new UsageCounterKey(record.AccountId, record.ContractId ?? "", record.ServedModel ?? record.RequestedModel ?? "");
    }
}
