using MeterAgent.Ledger.Credits;
using static MeterAgent.Ledger.Tests.Credits.Credit;

namespace MeterAgent.Ledger.Tests.Credits;

public abstract class ReservationLifecycleTests : LedgerContract
{
    private async Task<(string First, string Second, Reservation Reservation)> ReserveAcrossTwoLotsAsync()
    {
        var first = await DeliverAsync(4 * Unit, windowEnd: T0.AddDays(1));
        var second = await DeliverAsync(10 * Unit, windowEnd: T0.AddDays(2));
        var outcome = await Ledger.ReserveAsync(Request(AccountId, 7 * Unit));
        return (first, second, outcome.Reservation!);
    }

    private async Task<Dictionary<string, CreditLot>> LotsAsync() => (await Ledger.GetLotsAsync(AccountId)).ToDictionary(l => l.LotId);

    [Fact]
    public async Task The_same_reservation_id_again_returns_the_first_outcome_and_draws_once()
    {
        await DeliverAsync(10 * Unit);
        var request = Request(AccountId, 4 * Unit);

        var first = await Ledger.ReserveAsync(request);
        var again = await Ledger.ReserveAsync(request with { EstimateMicroByContract = new Dictionary<string, long> { ["gpt4o-2026q1"] = 9 * Unit } });

        Assert.True(again.Granted);
        Assert.Equal(first.Reservation!.ReservedMicro, again.Reservation!.ReservedMicro);
        Assert.Equal(first.Reservation.Draws, again.Reservation.Draws);
        Assert.Equal(first.Reservation.CreatedAt, again.Reservation.CreatedAt);
        Assert.Equal(first.Reservation.ExpiresAt, again.Reservation.ExpiresAt);
        Assert.Equal(6 * Unit, Assert.Single(await Ledger.GetLotsAsync(AccountId)).AvailableMicro);
    }

    [Fact]
    public async Task A_refused_reservation_is_decided_afresh_when_asked_again()
    {
        var request = Request(AccountId, 4 * Unit);
        Assert.False((await Ledger.ReserveAsync(request)).Granted);

        await DeliverAsync(10 * Unit);

        Assert.True((await Ledger.ReserveAsync(request)).Granted);
    }

    [Fact]
    public async Task Post_below_the_reservation_redeems_in_draw_order_and_releases_the_rest()
    {
        var (first, second, reservation) = await ReserveAcrossTwoLotsAsync();

        var posted = await Ledger.PostAsync(reservation.ReservationId, 5 * Unit);

        Assert.Equal(ReservationState.Posted, posted.State);
        Assert.Equal((5 * Unit, 0L), (posted.PostedMicro, posted.OverageMicro));
        Assert.Equal([new LotDraw(first, 4 * Unit, 4 * Unit), new LotDraw(second, 3 * Unit, 1 * Unit)], posted.Draws);
        var lots = await LotsAsync();
        Assert.Equal((0L, 0L, 4 * Unit), (lots[first].AvailableMicro, lots[first].PendingMicro, lots[first].RedeemedMicro));
        Assert.Equal((9 * Unit, 0L, 1 * Unit), (lots[second].AvailableMicro, lots[second].PendingMicro, lots[second].RedeemedMicro));
        Assert.Equal(0, await Ledger.GetOverageMicroAsync(AccountId));

        var stored = await Ledger.GetReservationAsync(reservation.ReservationId);
        Assert.Equal(posted.Draws, stored!.Draws);
        Assert.Equal((posted.State, posted.PostedMicro, posted.OverageMicro), (stored.State, stored.PostedMicro, stored.OverageMicro));
    }

    [Fact]
    public async Task Post_above_the_reservation_redeems_all_of_it_and_the_excess_is_overage()
    {
        var (first, second, reservation) = await ReserveAcrossTwoLotsAsync();

        var posted = await Ledger.PostAsync(reservation.ReservationId, 9 * Unit);

        Assert.Equal((7 * Unit, 2 * Unit), (posted.PostedMicro, posted.OverageMicro));
        Assert.Equal(2 * Unit, await Ledger.GetOverageMicroAsync(AccountId));
        var lots = await LotsAsync();
        Assert.Equal(4 * Unit, lots[first].RedeemedMicro);
        Assert.Equal((7 * Unit, 3 * Unit), (lots[second].AvailableMicro, lots[second].RedeemedMicro));
    }

    [Fact]
    public async Task A_second_post_returns_the_first_result_and_changes_nothing()
    {
        var (_, _, reservation) = await ReserveAcrossTwoLotsAsync();
        var first = await Ledger.PostAsync(reservation.ReservationId, 5 * Unit);
        var lotsAfterFirst = await Ledger.GetLotsAsync(AccountId);

        var second = await Ledger.PostAsync(reservation.ReservationId, 9 * Unit);

        Assert.Equal((first.State, first.PostedMicro, first.OverageMicro), (second.State, second.PostedMicro, second.OverageMicro));
        Assert.Equal(first.Draws, second.Draws);
        Assert.Equal(lotsAfterFirst, await Ledger.GetLotsAsync(AccountId));
        Assert.Equal(0, await Ledger.GetOverageMicroAsync(AccountId));
    }

    [Fact]
    public async Task Void_releases_everything_and_a_later_post_is_a_no_op_returning_voided()
    {
        var (first, second, reservation) = await ReserveAcrossTwoLotsAsync();

        var voided = await Ledger.VoidAsync(reservation.ReservationId);
        var postAfter = await Ledger.PostAsync(reservation.ReservationId, 3 * Unit);
        var voidAgain = await Ledger.VoidAsync(reservation.ReservationId);

        Assert.Equal(ReservationState.Voided, voided.State);
        Assert.Equal(ReservationState.Voided, postAfter.State);
        Assert.Equal(ReservationState.Voided, voidAgain.State);
        Assert.Equal(0, postAfter.PostedMicro);
        var lots = await LotsAsync();
        Assert.Equal((4 * Unit, 0L, 0L), (lots[first].AvailableMicro, lots[first].PendingMicro, lots[first].RedeemedMicro));
        Assert.Equal((10 * Unit, 0L, 0L), (lots[second].AvailableMicro, lots[second].PendingMicro, lots[second].RedeemedMicro));
        Assert.Equal(0, await Ledger.GetOverageMicroAsync(AccountId));
    }

    [Fact]
    public async Task Void_after_post_returns_the_posted_reservation()
    {
        var (_, _, reservation) = await ReserveAcrossTwoLotsAsync();
        await Ledger.PostAsync(reservation.ReservationId, 2 * Unit);

        var voided = await Ledger.VoidAsync(reservation.ReservationId);

        Assert.Equal((ReservationState.Posted, 2 * Unit), (voided.State, voided.PostedMicro));
    }

    [Fact]
    public async Task Post_or_void_of_an_unknown_reservation_throws_and_the_writer_carries_on()
    {
        await Assert.ThrowsAsync<KeyNotFoundException>(() => Ledger.PostAsync("res_unknown", Unit));
        await Assert.ThrowsAsync<KeyNotFoundException>(() => Ledger.VoidAsync("res_unknown"));

        await DeliverAsync(Unit);
        Assert.True((await Ledger.ReserveAsync(Request(AccountId, Unit))).Granted);
    }

    [Fact]
    public async Task Expiry_releases_pending_reservations_past_their_deadline_only()
    {
        var lot = await DeliverAsync(10 * Unit);
        var early = await Ledger.ReserveAsync(Request(AccountId, new Dictionary<string, long> { ["gpt4o-2026q1"] = 2 * Unit }, now: T0));
        var late = await Ledger.ReserveAsync(Request(AccountId, new Dictionary<string, long> { ["gpt4o-2026q1"] = 3 * Unit }, now: T0.AddMinutes(3)));
        var posted = await Ledger.ReserveAsync(Request(AccountId, new Dictionary<string, long> { ["gpt4o-2026q1"] = 1 * Unit }, now: T0));
        await Ledger.PostAsync(posted.Reservation!.ReservationId, Unit);

        // Deadlines: early T0+5m, late T0+8m. At T0+5m only early is due (the deadline itself counts as passed).
        Assert.Equal(1, await Ledger.ExpireAsync(T0.AddMinutes(5)));
        Assert.Equal(0, await Ledger.ExpireAsync(T0.AddMinutes(5)));

        Assert.Equal(ReservationState.Expired, (await Ledger.GetReservationAsync(early.Reservation!.ReservationId))!.State);
        Assert.Equal(ReservationState.Pending, (await Ledger.GetReservationAsync(late.Reservation!.ReservationId))!.State);
        Assert.Equal(ReservationState.Posted, (await Ledger.GetReservationAsync(posted.Reservation.ReservationId))!.State);
        var after = (await LotsAsync())[lot];
        Assert.Equal((6 * Unit, 3 * Unit, 1 * Unit), (after.AvailableMicro, after.PendingMicro, after.RedeemedMicro));

        // A post that arrives after its reservation expired is still charged, from what the lot holds now.
        var latePost = await Ledger.PostAsync(early.Reservation.ReservationId, 2 * Unit);
        Assert.Equal((ReservationState.Posted, 2 * Unit, 0L), (latePost.State, latePost.PostedMicro, latePost.OverageMicro));
        var charged = (await LotsAsync())[lot];
        Assert.Equal((4 * Unit, 3 * Unit, 3 * Unit), (charged.AvailableMicro, charged.PendingMicro, charged.RedeemedMicro));

        // Once: a second post, or a void, finds it posted.
        Assert.Equal(2 * Unit, (await Ledger.PostAsync(early.Reservation.ReservationId, 2 * Unit)).PostedMicro);
        Assert.Equal(ReservationState.Posted, (await Ledger.VoidAsync(early.Reservation.ReservationId)).State);
        Assert.Equal(3 * Unit, (await LotsAsync())[lot].RedeemedMicro);
    }

    [Fact]
    public async Task Pending_reservations_are_listed_oldest_first_bounded_and_only_the_accounts_own()
    {
        var lot = await DeliverAsync(20 * Unit);
        var other = (await Stores.Accounts.CreateAccountAsync("Other")).Id;
        await Ledger.SetPolicyAsync(other, new OveragePolicy(OveragePolicyKind.Allow));
        Assert.True((await Ledger.ReserveAsync(Request(other, new Dictionary<string, long> { ["gpt4o-2026q1"] = Unit }, now: T0.AddMinutes(10)))).Granted);

        // Made out of order; two at the same instant are ordered by id. "res_b" is renewed past the others' deadlines,
        // so an order by deadline would put it last.
        async Task<Reservation> ReserveAt(string id, int minutes, long units) =>
            (await Ledger.ReserveAsync(Request(AccountId, new Dictionary<string, long> { ["gpt4o-2026q1"] = units * Unit }, id, T0.AddMinutes(minutes)))).Reservation!;
        var third = await ReserveAt("res_c", 2, 3);
        var first = await ReserveAt("res_b", -1, 1);
        var second = await ReserveAt("res_d", 1, 2);
        var firstTie = await ReserveAt("res_a", -1, 1);
        var posted = await ReserveAt("res_e", -5, 1);
        var voided = await ReserveAt("res_f", -4, 1);
        await Ledger.PostAsync(posted.ReservationId, Unit);
        await Ledger.VoidAsync(voided.ReservationId);
        Assert.Equal(1, await Ledger.RenewAsync([first.ReservationId], T0.AddHours(1)));

        var all = await Ledger.GetPendingReservationsAsync(AccountId, 10);

        Assert.Equal(["res_a", "res_b", "res_d", "res_c"], all.Select(r => r.ReservationId));
        Assert.All(all, r => Assert.Equal((ReservationState.Pending, AccountId), (r.State, r.AccountId)));
        Assert.Equal([new LotDraw(lot, 2 * Unit, 0)], all[2].Draws);
        Assert.Equal((T0.AddMinutes(1), T0.AddMinutes(6), "gpt4o-2026q1"), (all[2].CreatedAt, all[2].ExpiresAt, all[2].ContractId));
        Assert.Equal(T0.AddHours(1), all[1].ExpiresAt);
        Assert.Equal((third.ReservedMicro, firstTie.CreatedAt), (all[3].ReservedMicro, all[0].CreatedAt));

        Assert.Equal(["res_a", "res_b"], (await Ledger.GetPendingReservationsAsync(AccountId, 2)).Select(r => r.ReservationId));
        Assert.Single(await Ledger.GetPendingReservationsAsync(other, 10));
        Assert.Empty(await Ledger.GetPendingReservationsAsync("acct_ffffffffffffffff", 10));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => Ledger.GetPendingReservationsAsync(AccountId, 0));

        // Resolved or expired, a reservation leaves the list.
        await Ledger.PostAsync(second.ReservationId, Unit);
        Assert.Equal(2, await Ledger.ExpireAsync(T0.AddMinutes(7)));
        Assert.Equal(["res_b"], (await Ledger.GetPendingReservationsAsync(AccountId, 10)).Select(r => r.ReservationId));
    }

    [Fact]
    public async Task Concurrent_reservations_never_spend_a_lot_twice()
    {
        await DeliverAsync(50 * Unit);

        var outcomes = await Task.WhenAll(Enumerable.Range(0, 200).Select(_ => Task.Run(() => Ledger.ReserveAsync(Request(AccountId, Unit)))));

        Assert.Equal(50, outcomes.Count(o => o.Granted));
        var lot = Assert.Single(await Ledger.GetLotsAsync(AccountId));
        Assert.Equal((0L, 50 * Unit), (lot.AvailableMicro, lot.PendingMicro));
    }
}
