using MeterAgent.Ledger.Credits;
using static MeterAgent.Ledger.Tests.Credits.Credit;

namespace MeterAgent.Ledger.Tests.Credits;

public abstract class RedemptionOrderTests : LedgerContract
{
    [Fact]
    public async Task Lots_are_drawn_by_window_end_then_delivery_time_across_several_lots()
    {
        var lateEnd = await DeliverAsync(10 * Unit, windowEnd: T0.AddDays(10), deliveredAt: T0.AddHours(-3));
        var earlyEndNewer = await DeliverAsync(3 * Unit, windowEnd: T0.AddDays(5), deliveredAt: T0.AddHours(-1));
        var earlyEndOlder = await DeliverAsync(3 * Unit, windowEnd: T0.AddDays(5), deliveredAt: T0.AddHours(-2));

        var outcome = await Ledger.ReserveAsync(Request(AccountId, 8 * Unit));

        Assert.True(outcome.Granted);
        var reservation = outcome.Reservation!;
        Assert.Equal(ReservationState.Pending, reservation.State);
        Assert.Equal(8 * Unit, reservation.ReservedMicro);
        Assert.Equal(
            [new LotDraw(earlyEndOlder, 3 * Unit, 0), new LotDraw(earlyEndNewer, 3 * Unit, 0), new LotDraw(lateEnd, 2 * Unit, 0)],
            reservation.Draws);

        var lots = (await Ledger.GetLotsAsync(AccountId)).ToDictionary(l => l.LotId);
        Assert.Equal((0, 3 * Unit), (lots[earlyEndOlder].AvailableMicro, lots[earlyEndOlder].PendingMicro));
        Assert.Equal((0, 3 * Unit), (lots[earlyEndNewer].AvailableMicro, lots[earlyEndNewer].PendingMicro));
        Assert.Equal((8 * Unit, 2 * Unit), (lots[lateEnd].AvailableMicro, lots[lateEnd].PendingMicro));
    }

    [Fact]
    public async Task Closed_and_future_windows_are_skipped_and_the_window_is_start_inclusive_end_exclusive()
    {
        await DeliverAsync(5 * Unit, windowStart: T0.AddDays(-10), windowEnd: T0.AddDays(-1));
        await DeliverAsync(5 * Unit, windowStart: T0.AddDays(-10), windowEnd: T0);
        await DeliverAsync(5 * Unit, windowStart: T0.AddTicks(10), windowEnd: T0.AddDays(30));
        var opensNow = await DeliverAsync(5 * Unit, windowStart: T0, windowEnd: T0.AddDays(30));

        var outcome = await Ledger.ReserveAsync(Request(AccountId, 2 * Unit));

        Assert.Equal([new LotDraw(opensNow, 2 * Unit, 0)], outcome.Reservation!.Draws);
    }

    [Fact]
    public async Task A_request_redeems_under_the_contract_of_the_first_eligible_lot_only()
    {
        var first = await DeliverAsync(2 * Unit, contractId: "alpha", windowEnd: T0.AddDays(1));
        await DeliverAsync(100 * Unit, contractId: "beta", windowEnd: T0.AddDays(2));
        await Ledger.SetPolicyAsync(AccountId, new OveragePolicy(OveragePolicyKind.Allow));

        var outcome = await Ledger.ReserveAsync(Request(AccountId, new Dictionary<string, long> { ["alpha"] = 5 * Unit, ["beta"] = 7 * Unit }));

        // Alpha covers only part of its estimate; beta's plenty is not mixed in: the shortfall is alpha's overage.
        var reservation = outcome.Reservation!;
        Assert.Equal("alpha", reservation.ContractId);
        Assert.Equal([new LotDraw(first, 2 * Unit, 0)], reservation.Draws);
        Assert.Equal(2 * Unit, reservation.ReservedMicro);
    }

    [Fact]
    public async Task Lots_of_contracts_that_do_not_cover_the_request_are_passed_over()
    {
        await DeliverAsync(50 * Unit, contractId: "other-model", windowEnd: T0.AddDays(1));
        var eligible = await DeliverAsync(50 * Unit, contractId: "alpha", windowEnd: T0.AddDays(9));

        var outcome = await Ledger.ReserveAsync(Request(AccountId, 4 * Unit, contractId: "alpha"));

        Assert.Equal("alpha", outcome.Reservation!.ContractId);
        Assert.Equal([new LotDraw(eligible, 4 * Unit, 0)], outcome.Reservation.Draws);
    }

    [Fact]
    public async Task Under_reject_a_shortfall_refuses_even_when_another_contract_has_plenty_and_changes_nothing()
    {
        await DeliverAsync(2 * Unit, contractId: "alpha", windowEnd: T0.AddDays(1));
        await DeliverAsync(100 * Unit, contractId: "beta", windowEnd: T0.AddDays(2));
        var before = await Ledger.GetLotsAsync(AccountId);

        var request = Request(AccountId, new Dictionary<string, long> { ["alpha"] = 5 * Unit, ["beta"] = 7 * Unit });
        var outcome = await Ledger.ReserveAsync(request);

        Assert.False(outcome.Granted);
        Assert.Null(outcome.Reservation);
        Assert.Equal(RefusalReasons.InsufficientQuota, outcome.RefusalReason);
        Assert.Equal(before, await Ledger.GetLotsAsync(AccountId));
        Assert.Null(await Ledger.GetReservationAsync(request.ReservationId));
    }
}
