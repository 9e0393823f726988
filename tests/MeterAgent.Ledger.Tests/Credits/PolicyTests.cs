using MeterAgent.Ledger.Credits;
using static MeterAgent.Ledger.Tests.Credits.Credit;

namespace MeterAgent.Ledger.Tests.Credits;

public abstract class PolicyTests : LedgerContract
{
    [Fact]
    public async Task The_default_policy_is_reject_and_a_set_policy_reads_back()
    {
        Assert.Equal(OveragePolicy.Reject, await Ledger.GetPolicyAsync(AccountId));

        await Ledger.SetPolicyAsync(AccountId, new OveragePolicy(OveragePolicyKind.AllowUpTo, 40 * Unit));
        Assert.Equal(new OveragePolicy(OveragePolicyKind.AllowUpTo, 40 * Unit), await Ledger.GetPolicyAsync(AccountId));

        await Ledger.SetPolicyAsync(AccountId, new OveragePolicy(OveragePolicyKind.Allow));
        Assert.Equal(new OveragePolicy(OveragePolicyKind.Allow), await Ledger.GetPolicyAsync(AccountId));
    }

    [Fact]
    public async Task A_policy_for_an_unknown_account_is_refused()
    {
        await Assert.ThrowsAsync<KeyNotFoundException>(() => Ledger.SetPolicyAsync("acct_ffffffffffffffff", new OveragePolicy(OveragePolicyKind.Allow)));
    }

    [Fact]
    public async Task Reject_without_any_credit_refuses_with_insufficient_quota()
    {
        var outcome = await Ledger.ReserveAsync(Request(AccountId, Unit));

        Assert.False(outcome.Granted);
        Assert.Equal(RefusalReasons.InsufficientQuota, outcome.RefusalReason);
    }

    [Fact]
    public async Task Reject_refuses_a_zero_estimate_too_when_there_is_no_credit_at_all()
    {
        var outcome = await Ledger.ReserveAsync(Request(AccountId, 0));

        Assert.False(outcome.Granted);
    }

    [Fact]
    public async Task Allow_grants_what_credits_cover_and_the_excess_becomes_overage_on_post()
    {
        var lot = await DeliverAsync(3 * Unit);
        await Ledger.SetPolicyAsync(AccountId, new OveragePolicy(OveragePolicyKind.Allow));

        var outcome = await Ledger.ReserveAsync(Request(AccountId, 5 * Unit));
        Assert.True(outcome.Granted);
        Assert.Equal(3 * Unit, outcome.Reservation!.ReservedMicro);

        var posted = await Ledger.PostAsync(outcome.Reservation.ReservationId, 6 * Unit);

        Assert.Equal((3 * Unit, 3 * Unit), (posted.PostedMicro, posted.OverageMicro));
        Assert.Equal(3 * Unit, await Ledger.GetOverageMicroAsync(AccountId));
        var after = Assert.Single(await Ledger.GetLotsAsync(AccountId));
        Assert.Equal((lot, 0L, 0L, 3 * Unit), (after.LotId, after.AvailableMicro, after.PendingMicro, after.RedeemedMicro));
    }

    [Fact]
    public async Task Allow_without_an_eligible_lot_counts_under_the_cheapest_estimate_and_posts_everything_as_overage()
    {
        await Ledger.SetPolicyAsync(AccountId, new OveragePolicy(OveragePolicyKind.Allow));

        var outcome = await Ledger.ReserveAsync(Request(AccountId, new Dictionary<string, long> { ["pricey"] = 9 * Unit, ["cheap"] = 4 * Unit, ["also-cheap"] = 4 * Unit }));

        var reservation = outcome.Reservation!;
        Assert.True(outcome.Granted);
        Assert.Equal("also-cheap", reservation.ContractId);
        Assert.Equal(0, reservation.ReservedMicro);
        Assert.Empty(reservation.Draws);

        var posted = await Ledger.PostAsync(reservation.ReservationId, 5 * Unit);
        Assert.Equal((0L, 5 * Unit), (posted.PostedMicro, posted.OverageMicro));
        Assert.Equal(5 * Unit, await Ledger.GetOverageMicroAsync(AccountId));
    }

    [Fact]
    public async Task Allow_with_no_contract_covering_the_request_grants_it_under_no_contract()
    {
        await Ledger.SetPolicyAsync(AccountId, new OveragePolicy(OveragePolicyKind.Allow));

        var outcome = await Ledger.ReserveAsync(Request(AccountId, []));

        Assert.True(outcome.Granted);
        Assert.Null(outcome.Reservation!.ContractId);
    }

    [Fact]
    public async Task Allow_up_to_grants_while_overage_plus_shortfall_stays_within_the_limit()
    {
        await DeliverAsync(1 * Unit);
        await Ledger.SetPolicyAsync(AccountId, new OveragePolicy(OveragePolicyKind.AllowUpTo, 10 * Unit));

        // Shortfall 9 of a limit of 10: granted; the post leaves 9 of overage.
        var first = await Ledger.ReserveAsync(Request(AccountId, 10 * Unit));
        Assert.True(first.Granted);
        await Ledger.PostAsync(first.Reservation!.ReservationId, 10 * Unit);
        Assert.Equal(9 * Unit, await Ledger.GetOverageMicroAsync(AccountId));

        // 9 + 1 = 10: exactly at the limit is still within it.
        var second = await Ledger.ReserveAsync(Request(AccountId, 1 * Unit));
        Assert.True(second.Granted);
        Assert.Equal(0, second.Reservation!.ReservedMicro);

        // 9 + 2 > 10: refused, and nothing changes.
        var third = await Ledger.ReserveAsync(Request(AccountId, 2 * Unit));
        Assert.False(third.Granted);
        Assert.Equal(RefusalReasons.OverageLimitExceeded, third.RefusalReason);
        Assert.Equal(9 * Unit, await Ledger.GetOverageMicroAsync(AccountId));
    }

    [Fact]
    public async Task Allow_up_to_counts_what_pending_reservations_were_granted_beyond_their_credits()
    {
        var lot = await DeliverAsync(1 * Unit);
        await Ledger.SetPolicyAsync(AccountId, new OveragePolicy(OveragePolicyKind.AllowUpTo, 10 * Unit));

        // Requests in flight at once, none settled: 1 credit + 4 held, then 4 more held (8), then 4 more would be 12.
        var first = await Ledger.ReserveAsync(Request(AccountId, 5 * Unit));
        var second = await Ledger.ReserveAsync(Request(AccountId, 4 * Unit));
        var third = await Ledger.ReserveAsync(Request(AccountId, 4 * Unit));
        Assert.Equal((true, true), (first.Granted, second.Granted));
        Assert.Equal((false, RefusalReasons.OverageLimitExceeded), (third.Granted, third.RefusalReason));
        Assert.Equal((0L, 8 * Unit), (await Ledger.GetOverageMicroAsync(AccountId), await Ledger.GetOverageHeldMicroAsync(AccountId)));

        // 8 + 2 = 10: exactly at the limit.
        var fourth = await Ledger.ReserveAsync(Request(AccountId, 2 * Unit));
        Assert.True(fourth.Granted);

        // A void gives its hold back at once.
        await Ledger.VoidAsync(second.Reservation!.ReservationId);
        Assert.True((await Ledger.ReserveAsync(Request(AccountId, 4 * Unit))).Granted);
        Assert.False((await Ledger.ReserveAsync(Request(AccountId, 1))).Granted);

        // A post swaps the hold (4) for the overage it posts (6 - 1 credit = 5): 4 + 2 + 5 = 11 > 10, so even 1 µ is refused.
        var posted = await Ledger.PostAsync(first.Reservation!.ReservationId, 6 * Unit);
        Assert.Equal((1 * Unit, 5 * Unit), (posted.PostedMicro, posted.OverageMicro));
        Assert.Equal((5 * Unit, 6 * Unit), (await Ledger.GetOverageMicroAsync(AccountId), await Ledger.GetOverageHeldMicroAsync(AccountId)));
        Assert.Equal(RefusalReasons.OverageLimitExceeded, (await Ledger.ReserveAsync(Request(AccountId, 1))).RefusalReason);

        // Expired reservations hold nothing: only the 5 posted count, so 5 more fit and 6 do not.
        await Ledger.ExpireAsync(T0.AddDays(1));
        Assert.Equal(0, await Ledger.GetOverageHeldMicroAsync(AccountId));
        Assert.False((await Ledger.ReserveAsync(Request(AccountId, 5 * Unit + 1))).Granted);
        Assert.True((await Ledger.ReserveAsync(Request(AccountId, 5 * Unit))).Granted);
        var after = Assert.Single(await Ledger.GetLotsAsync(AccountId));
        Assert.Equal((lot, 0L, 0L, 1 * Unit), (after.LotId, after.AvailableMicro, after.PendingMicro, after.RedeemedMicro));
    }

    [Fact]
    public async Task Allow_up_to_holds_against_many_reserves_at_once()
    {
        await Ledger.SetPolicyAsync(AccountId, new OveragePolicy(OveragePolicyKind.AllowUpTo, 5 * Unit));

        // 32 requests reserve 1 unit each at once, with no credit: the limit lets exactly 5 through, whatever the order.
        var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var reserves = Enumerable.Range(0, 32).Select(_ => Task.Run(async () =>
        {
            await start.Task;
            return await Ledger.ReserveAsync(Request(AccountId, 1 * Unit));
        })).ToArray();
        start.SetResult();
        var outcomes = await Task.WhenAll(reserves);

        Assert.Equal(5, outcomes.Count(o => o.Granted));
        Assert.All(outcomes.Where(o => !o.Granted), o => Assert.Equal(RefusalReasons.OverageLimitExceeded, o.RefusalReason));

        // Posted in full, they owe exactly the limit.
        foreach (var granted in outcomes.Where(o => o.Granted))
        {
            await Ledger.PostAsync(granted.Reservation!.ReservationId, 1 * Unit);
        }

        Assert.Equal(5 * Unit, await Ledger.GetOverageMicroAsync(AccountId));
    }

    [Fact]
    public async Task Without_a_shortfall_no_policy_is_consulted()
    {
        await DeliverAsync(5 * Unit);
        await Ledger.SetPolicyAsync(AccountId, new OveragePolicy(OveragePolicyKind.AllowUpTo, 0));

        var outcome = await Ledger.ReserveAsync(Request(AccountId, 5 * Unit));

        Assert.True(outcome.Granted);
        Assert.Equal(5 * Unit, outcome.Reservation!.ReservedMicro);
    }
}
