using MeterAgent.Ledger.Credits;

namespace MeterAgent.Ledger.Sqlite;

/// <summary>
/// Posts a pending reservation's actual amount: up to what was reserved is redeemed across its draws in order, the
/// rest released, any excess is the account's overage. An expired one is posted late (see
/// <see cref="CreditWriteSteps.PostLate"/>); any other resolved reservation comes back as it is.
/// </summary>
internal sealed class PostWrite(string reservationId, long actualMicro) : SqliteWriteOperation<Reservation>
{
    public override string Description => $"credit post {reservationId}";

    protected override Reservation Run(SqliteWriteContext context) => Post(context, reservationId, actualMicro);

    /// <summary>The post itself, for operations that post as one step of a larger write.</summary>
    internal static Reservation Post(SqliteWriteContext context, string reservationId, long actualMicro)
    {
        var reservation = CreditWriteSteps.LoadReservation(context, reservationId)
            ?? throw new KeyNotFoundException($"No reservation '{reservationId}'.");
        if (reservation.State == ReservationState.Expired && actualMicro > 0)
        {
            // Posted after its deadline: still charged, from what the lots hold at the deadline it missed.
            return CreditWriteSteps.PostLate(context, reservation, actualMicro, reservation.ExpiresAt);
        }

        if (reservation.State != ReservationState.Pending)
        {
            return reservation;
        }

        return CreditWriteSteps.ApplyResolution(context, Settlement.Resolve(reservation, actualMicro));
    }
}
