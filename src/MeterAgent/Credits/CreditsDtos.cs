using MeterAgent.Contracts.Units;
using MeterAgent.Ledger.Counters;
using MeterAgent.Ledger.Credits;

namespace MeterAgent.Credits;

/// <summary>A lot on the wire: amounts in contract units (decimal), not the ledger's micro-units.</summary>
public sealed record LotView(
    string LotId,
    string ContractId,
    int ContractVersion,
    string DeliveryId,
    decimal Delivered,
    decimal Available,
    decimal Pending,
    decimal Redeemed,
    DateTimeOffset WindowStart,
    DateTimeOffset WindowEnd,
    DateTimeOffset DeliveredAt)
{
    public static LotView From(CreditLot lot) => new(
        lot.LotId, lot.ContractId, lot.ContractVersion, lot.DeliveryId,
        ContractUnits.FromMicro(lot.DeliveredMicro), ContractUnits.FromMicro(lot.AvailableMicro),
        ContractUnits.FromMicro(lot.PendingMicro), ContractUnits.FromMicro(lot.RedeemedMicro),
        lot.WindowStart, lot.WindowEnd, lot.DeliveredAt);
}

public sealed record PolicyView(string Kind, decimal? Limit)
{
    public static PolicyView From(OveragePolicy policy) => new(
        policy.Kind switch
        {
            OveragePolicyKind.Allow => "allow",
            OveragePolicyKind.AllowUpTo => "allow_up_to",
            _ => "reject",
        },
        policy.Kind == OveragePolicyKind.AllowUpTo ? ContractUnits.FromMicro(policy.LimitMicro) : null);
}

/// <summary>
/// An account's balance. <c>overage</c> is posted and not yet billed; <c>overage_held</c> is what its requests in flight
/// were granted beyond their credits, counted with it against an <c>allow_up_to</c> limit until they settle.
/// </summary>
public sealed record BalanceView(
    string AccountId, IReadOnlyList<LotView> Lots, decimal Overage, decimal OverageHeld, PolicyView Policy, IReadOnlyList<UsageTotalsView> Usage);

/// <summary>What the account used under one contract ("" when none) and model, from the live counters.</summary>
public sealed record UsageTotalsView(
    string ContractId, string Model, long Requests, long ReferenceInputTokens, long ReferenceOutputTokens, long NativeInputTokens,
    long NativeCachedInputTokens, long NativeCacheWriteTokens, long NativeOutputTokens, long NativeReasoningTokens,
    decimal Units, decimal Redeemed, decimal Overage)
{
    public static UsageTotalsView From(string contractId, string model, UsageTotals t) => new(
        contractId, model, t.Requests, t.ReferenceInputTokens, t.ReferenceOutputTokens, t.NativeInputTokens, t.NativeCachedInputTokens,
        t.NativeCacheWriteTokens, t.NativeOutputTokens, t.NativeReasoningTokens,
        ContractUnits.FromMicro(t.UnitsMicro), ContractUnits.FromMicro(t.RedeemedMicro), ContractUnits.FromMicro(t.OverageMicro));
}

internal sealed record DeliveryResultView(string Outcome, LotView Lot);

internal sealed record DeliveryRequest(string? Notice);

internal sealed record CorrectionRequest(decimal? Delta, string? Reason);
