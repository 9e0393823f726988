using MeterAgent.Ledger.Credits;
using MeterAgent.Ledger.Tests.Sqlite;
using MeterAgent.Ledger.Usage;
using static MeterAgent.Ledger.Tests.Credits.Credit;

namespace MeterAgent.Ledger.Tests.Credits;

/// <summary>The end of a credited request: post or void and close the record in one write.</summary>
public abstract class SettleAndCloseTests : LedgerContract
{
    private async Task<(string Lot, Reservation Reservation, UsageRecord Record)> OpenRequestAsync(long estimateMicro)
    {
        var lot = await DeliverAsync(10 * Unit);
        var record = UsageRecords.Minimal(AccountId);
        var reservation = (await Ledger.ReserveAsync(Request(AccountId, estimateMicro, reservationId: record.Id))).Reservation!;
        await Stores.Usage.OpenAsync(record);
        return (lot, reservation, record);
    }

    [Fact]
    public async Task Posting_fills_the_records_redemption_fields_and_closes_it_with_the_ledger()
    {
        var (lot, reservation, record) = await OpenRequestAsync(3 * Unit);
        record.Status = UsageStatus.Completed;
        record.UnitsMicro = 4 * Unit;

        var final = await Ledger.SettleAndCloseAsync(reservation, 4 * Unit, record);

        Assert.Equal(ReservationState.Posted, final.State);
        var stored = await Stores.Usage.GetAsync(record.Id);
        Assert.Equal(UsageStatus.Completed, stored!.Status);
        Assert.Equal("gpt4o-2026q1", stored.ContractId);
        Assert.Equal((4 * Unit, 3 * Unit, 1 * Unit), (stored.UnitsMicro!.Value, stored.RedeemedMicro!.Value, stored.OverageMicro!.Value));
        Assert.Equal([lot], stored.LotIds);
        var lots = await Ledger.GetLotsAsync(AccountId);
        Assert.Equal((7 * Unit, 0L, 3 * Unit), (lots[0].AvailableMicro, lots[0].PendingMicro, lots[0].RedeemedMicro));
        Assert.Equal(1 * Unit, await Ledger.GetOverageMicroAsync(AccountId));
    }

    [Fact]
    public async Task Voiding_releases_the_credits_and_closes_the_record_with_nothing_redeemed()
    {
        var (_, reservation, record) = await OpenRequestAsync(3 * Unit);
        record.Status = UsageStatus.UpstreamFailed;
        record.UnitsMicro = 2 * Unit;

        var final = await Ledger.SettleAndCloseAsync(reservation, null, record);

        Assert.Equal(ReservationState.Voided, final.State);
        var stored = await Stores.Usage.GetAsync(record.Id);
        Assert.Equal(UsageStatus.UpstreamFailed, stored!.Status);
        Assert.Equal((0L, 0L), (stored.RedeemedMicro!.Value, stored.OverageMicro!.Value));
        Assert.Equal(10 * Unit, (await Ledger.GetLotsAsync(AccountId))[0].AvailableMicro);
    }

    [Fact]
    public async Task A_reservation_that_expired_first_is_still_posted_from_what_its_lots_hold_now()
    {
        var (lot, reservation, record) = await OpenRequestAsync(3 * Unit);
        await Ledger.ExpireAsync(reservation.ExpiresAt.AddSeconds(1));
        record.Status = UsageStatus.Completed;
        record.EndedAt = reservation.ExpiresAt.AddSeconds(2);
        record.UnitsMicro = 2 * Unit;

        var final = await Ledger.SettleAndCloseAsync(reservation, 2 * Unit, record);

        // Served for longer than its reservation lived: charged all the same, never zero.
        Assert.Equal(ReservationState.Posted, final.State);
        Assert.Equal((2 * Unit, 0L), (final.PostedMicro, final.OverageMicro));
        var stored = await Stores.Usage.GetAsync(record.Id);
        Assert.Equal((2 * Unit, 0L), (stored!.RedeemedMicro!.Value, stored.OverageMicro!.Value));
        Assert.Equal([lot], stored.LotIds);
        var lots = await Ledger.GetLotsAsync(AccountId);
        Assert.Equal((8 * Unit, 0L, 2 * Unit), (lots[0].AvailableMicro, lots[0].PendingMicro, lots[0].RedeemedMicro));
        Assert.Equal(0, await Ledger.GetOverageMicroAsync(AccountId));
        var reread = await Ledger.GetReservationAsync(reservation.ReservationId);
        Assert.Equal((ReservationState.Posted, 5 * Unit, 2 * Unit), (reread!.State, reread.ReservedMicro, reread.PostedMicro));
        Assert.Equal(reread.ReservedMicro, reread.Draws.Sum(d => d.ReservedMicro));
    }

    [Fact]
    public async Task A_late_post_whose_credits_were_spent_meanwhile_owes_the_rest_as_overage()
    {
        var (_, reservation, record) = await OpenRequestAsync(3 * Unit);
        await Ledger.ExpireAsync(reservation.ExpiresAt.AddSeconds(1));

        // Another request takes 9 of the 10 units the expiry released.
        var other = (await Ledger.ReserveAsync(Request(AccountId, 9 * Unit, reservationId: "res_other"))).Reservation!;
        await Ledger.PostAsync(other.ReservationId, 9 * Unit);
        record.Status = UsageStatus.Completed;
        record.EndedAt = reservation.ExpiresAt.AddSeconds(2);
        record.UnitsMicro = 4 * Unit;

        var final = await Ledger.SettleAndCloseAsync(reservation, 4 * Unit, record);

        Assert.Equal((ReservationState.Posted, 1 * Unit, 3 * Unit), (final.State, final.PostedMicro, final.OverageMicro));
        var stored = await Stores.Usage.GetAsync(record.Id);
        Assert.Equal((1 * Unit, 3 * Unit), (stored!.RedeemedMicro!.Value, stored.OverageMicro!.Value));
        Assert.Equal(3 * Unit, await Ledger.GetOverageMicroAsync(AccountId));
        var lot = (await Ledger.GetLotsAsync(AccountId))[0];
        Assert.Equal((0L, 0L, 10 * Unit), (lot.AvailableMicro, lot.PendingMicro, lot.RedeemedMicro));
    }

    [Fact]
    public async Task Voiding_an_expired_reservation_charges_nothing()
    {
        var (_, reservation, record) = await OpenRequestAsync(3 * Unit);
        await Ledger.ExpireAsync(reservation.ExpiresAt.AddSeconds(1));
        record.Status = UsageStatus.UpstreamFailed;

        var final = await Ledger.SettleAndCloseAsync(reservation, null, record);

        Assert.Equal(ReservationState.Expired, final.State);
        var stored = await Stores.Usage.GetAsync(record.Id);
        Assert.Equal((0L, 0L), (stored!.RedeemedMicro!.Value, stored.OverageMicro!.Value));
        Assert.Equal(10 * Unit, (await Ledger.GetLotsAsync(AccountId))[0].AvailableMicro);
    }

    [Fact]
    public async Task A_renewed_reservation_outlives_its_first_deadline()
    {
        var (_, reservation, record) = await OpenRequestAsync(3 * Unit);
        var renewed = await Ledger.RenewAsync([reservation.ReservationId, "res_unknown"], reservation.ExpiresAt.AddMinutes(30));
        Assert.Equal(1, renewed);

        Assert.Equal(0, await Ledger.ExpireAsync(reservation.ExpiresAt.AddSeconds(1)));
        Assert.Equal(ReservationState.Pending, (await Ledger.GetReservationAsync(reservation.ReservationId))!.State);
        Assert.Equal(1, await Ledger.ExpireAsync(reservation.ExpiresAt.AddMinutes(31)));

        // A resolved reservation is not brought back by a renewal that comes late.
        Assert.Equal(0, await Ledger.RenewAsync([reservation.ReservationId], reservation.ExpiresAt.AddHours(2)));
        Assert.Equal(ReservationState.Expired, (await Ledger.GetReservationAsync(reservation.ReservationId))!.State);
        _ = record;
    }
}
