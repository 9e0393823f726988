namespace MeterAgent.Ledger.Credits;

/// <summary>
/// What a reservation would draw: the contract it redeems under, its estimate in that contract's units, and the picks
/// on that contract's lots, which cover the estimate as far as the lots can. <c>FromLot</c> is false when no eligible
/// lot's contract covers the request: then only the account's policy can serve it.
/// </summary>
public sealed record DrawPlan(string? ContractId, long EstimateMicro, bool FromLot, IReadOnlyList<LotPick> Picks)
{
    public long DrawnMicro { get; } = Picks.Sum(p => p.AmountMicro);

    public long ShortfallMicro => EstimateMicro - DrawnMicro;

    /// <summary>
    /// No eligible lot at all is "no credit" even when the estimate is 0: only the account's policy can let it through.
    /// </summary>
    public bool NeedsPolicy => ShortfallMicro > 0 || !FromLot;
}
