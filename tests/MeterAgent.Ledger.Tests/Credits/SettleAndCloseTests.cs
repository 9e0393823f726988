using MeterAgent.Ledger.Credits;
using MeterAgent.Ledger.Tests.Sqlite;
using MeterAgent.Ledger.Usage;
using static MeterAgent.Ledger.Tests.Credits.Credit;

namespace MeterAgent.Ledger.Tests.Credits;

/// <summary>The end of a credited request: post or void and close the record in one write.</summary>
public sealed class SettleAndCloseTests : LedgerFixture
{
    private async Task<(string Lot, Reservation Reservation, UsageRecord Record)> OpenRequestAsync(long estimateMicro)
    {
        var lot = await DeliverAsync(10 * Unit);
        var record = UsageRecords.Minimal(AccountId);
        var reservation = (await Ledger.ReserveAsync(Request(AccountId, estimateMicro, reservationId: record.Id))).Reservation!;
        await Store.Usage.OpenAsync(record);
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
        var stored = await Store.Usage.GetAsync(record.Id);
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
        var stored = await Store.Usage.GetAsync(record.Id);
        Assert.Equal(UsageStatus.UpstreamFailed, stored!.Status);
        Assert.Equal((0L, 0L), (stored.RedeemedMicro!.Value, stored.OverageMicro!.Value));
        Assert.Equal(10 * Unit, (await Ledger.GetLotsAsync(AccountId))[0].AvailableMicro);
    }

    [Fact]
    public async Task A_reservation_that_expired_first_leaves_the_whole_request_as_overage_on_the_record()
    {
        var (_, reservation, record) = await OpenRequestAsync(3 * Unit);
        await Ledger.ExpireAsync(reservation.ExpiresAt.AddSeconds(1));
        record.Status = UsageStatus.Completed;
        record.UnitsMicro = 2 * Unit;

        var final = await Ledger.SettleAndCloseAsync(reservation, 2 * Unit, record);

        Assert.Equal(ReservationState.Expired, final.State);
        var stored = await Store.Usage.GetAsync(record.Id);
        Assert.Equal((0L, 2 * Unit), (stored!.RedeemedMicro!.Value, stored.OverageMicro!.Value));
        Assert.Equal(10 * Unit, (await Ledger.GetLotsAsync(AccountId))[0].AvailableMicro);
    }
}
