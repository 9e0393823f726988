namespace MeterAgent.Ledger.Tests.Credits;

/// <summary>
/// The vocabulary of the property test: what one concurrent caller does to the ledger. Indexes (reservation, lot)
/// are small so that callers collide on the same reservations and lots.
/// </summary>
public abstract record LedgerOperation
{
    /// <summary>Window 0 open now, 1 already closed, 2 opening later.</summary>
    public sealed record Deliver(string Contract, long QuantityMicro, int Window) : LedgerOperation;

    /// <summary>Contracts 0 = alpha only, 1 = beta only, 2 = both.</summary>
    public sealed record Reserve(int Reservation, long AlphaMicro, long BetaMicro, int Contracts) : LedgerOperation;

    public sealed record Post(int Reservation, long ActualMicro) : LedgerOperation;

    public sealed record Void(int Reservation) : LedgerOperation;

    /// <summary>Reservations are made at T0 and expire at T0 + 60 min; this sweeps at T0 + the given minutes.</summary>
    public sealed record Expire(int MinutesAfter) : LedgerOperation;

    /// <summary>Corrects the account's lot at this index (modulo how many there are).</summary>
    public sealed record Correct(int Lot, long DeltaMicro) : LedgerOperation;
}
