namespace MeterAgent.Ledger.Credits;

public enum DeliveryOutcomeKind
{
    /// <summary>Applied now: a new lot.</summary>
    Applied,

    /// <summary>The same delivery (same id, same payload) again: the first result, nothing changed.</summary>
    Replayed,

    /// <summary>The id was used before with a different payload: refused, nothing changed.</summary>
    Conflict,

    /// <summary>No such account: refused, nothing changed.</summary>
    UnknownAccount,
}

public sealed record DeliveryOutcome(DeliveryOutcomeKind Kind, CreditLot? Lot);
