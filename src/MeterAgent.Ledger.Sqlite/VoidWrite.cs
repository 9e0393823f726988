using MeterAgent.Ledger.Credits;

namespace MeterAgent.Ledger.Sqlite;

/// <summary>Releases everything a pending reservation holds; a resolved one comes back as it is.</summary>
internal sealed class VoidWrite(string reservationId) : SqliteWriteOperation<Reservation>
{
    public override string Description => $"credit void {reservationId}";

    protected override Reservation Run(SqliteWriteContext context) => Void(context, reservationId);

    /// <summary>The void itself, for operations that void as one step of a larger write.</summary>
    internal static Reservation Void(SqliteWriteContext context, string reservationId)
    {
        var reservation = CreditWriteSteps.LoadReservation(context, reservationId)
            ?? throw new KeyNotFoundException($"No reservation '{reservationId}'.");
        return reservation.State == ReservationState.Pending
            ? CreditWriteSteps.ApplyResolution(context, Settlement.Release(reservation, ReservationState.Voided))
            : reservation;
    }
}
