namespace MeterAgent.Ledger.Credits;

/// <summary>
/// Which lots a request draws on, for every store: a reservation and a late post pick the same way, so the rule is
/// written once here and the stores only read lots and move the amounts.
/// </summary>
public static class Redemption
{
    /// <summary>
    /// Picks the contract (that of the first lot, in redemption order, whose contract the request covers) and the draws
    /// on its lots that cover the estimate as far as they can. With no such lot, the contract is the one with the
    /// cheapest estimate: overage must be counted in some contract's units, and the cheapest is the customer's best case.
    /// </summary>
    /// <remarks>The lots are read lazily and only as far as needed, so a store can stream them.</remarks>
    public static DrawPlan PlanReservation(IEnumerable<EligibleLot> lotsInRedemptionOrder, IReadOnlyDictionary<string, long> estimateMicroByContract)
    {
        ArgumentNullException.ThrowIfNull(lotsInRedemptionOrder);
        ArgumentNullException.ThrowIfNull(estimateMicroByContract);

        using var lots = lotsInRedemptionOrder.GetEnumerator();
        while (lots.MoveNext())
        {
            var first = lots.Current;
            if (estimateMicroByContract.TryGetValue(first.ContractId, out var estimate))
            {
                return new DrawPlan(first.ContractId, estimate, FromLot: true, PickDraws(Rest(lots), first.ContractId, estimate));
            }
        }

        string? contractId = null;
        long cheapest = 0;
        foreach (var (candidate, candidateEstimate) in estimateMicroByContract)
        {
            // Ties go to the lowest id, so the choice does not depend on the dictionary's order.
            if (contractId is null || candidateEstimate < cheapest
                || (candidateEstimate == cheapest && string.CompareOrdinal(candidate, contractId) < 0))
            {
                contractId = candidate;
                cheapest = candidateEstimate;
            }
        }

        return new DrawPlan(contractId, cheapest, FromLot: false, []);
    }

    /// <summary>
    /// Takes <paramref name="amountMicro"/> from the lots of <paramref name="contractId"/> in the order given (redemption
    /// order), each lot as far as it holds, until the amount is covered or the lots run out. Used by a reservation and
    /// by a post that outlived its reservation.
    /// </summary>
    public static IReadOnlyList<LotPick> PickDraws(IEnumerable<EligibleLot> lotsInRedemptionOrder, string? contractId, long amountMicro)
    {
        ArgumentNullException.ThrowIfNull(lotsInRedemptionOrder);
        ArgumentOutOfRangeException.ThrowIfNegative(amountMicro);

        var picks = new List<LotPick>();
        long drawn = 0;
        foreach (var lot in lotsInRedemptionOrder)
        {
            if (drawn >= amountMicro)
            {
                break;
            }

            if (!string.Equals(lot.ContractId, contractId, StringComparison.Ordinal) || lot.AvailableMicro <= 0)
            {
                continue;
            }

            var amount = Math.Min(lot.AvailableMicro, amountMicro - drawn);
            picks.Add(new LotPick(lot.LotId, amount));
            drawn += amount;
        }

        return picks;
    }

    /// <summary>The lots left after the one the enumerator stands on, that one first.</summary>
    private static IEnumerable<EligibleLot> Rest(IEnumerator<EligibleLot> lots)
    {
        do
        {
            yield return lots.Current;
        }
        while (lots.MoveNext());
    }
}
