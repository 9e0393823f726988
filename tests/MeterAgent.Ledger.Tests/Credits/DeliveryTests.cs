using MeterAgent.Ledger.Credits;
using static MeterAgent.Ledger.Tests.Credits.Credit;

namespace MeterAgent.Ledger.Tests.Credits;

public abstract class DeliveryTests : LedgerContract
{
    [Fact]
    public async Task A_delivery_creates_one_lot_with_everything_available()
    {
        var notice = Notice(AccountId, 250 * Unit, windowStart: T0.AddDays(-2), windowEnd: T0.AddDays(28));

        var outcome = await Ledger.ApplyDeliveryAsync(notice, T0);

        Assert.Equal(DeliveryOutcomeKind.Applied, outcome.Kind);
        var lot = outcome.Lot!;
        Assert.Matches("^lot_[0-9a-f]{16}$", lot.LotId);
        Assert.Equal(new CreditLot(lot.LotId, AccountId, notice.ContractId, notice.ContractVersion, notice.DeliveryId,
            250 * Unit, 250 * Unit, 0, 0, notice.WindowStart, notice.WindowEnd, T0), lot);
        Assert.Equal(lot, Assert.Single(await Ledger.GetLotsAsync(AccountId)));
    }

    [Fact]
    public async Task The_same_delivery_again_is_replayed_with_the_original_lot_and_changes_nothing()
    {
        var notice = Notice(AccountId, 10 * Unit);
        var first = await Ledger.ApplyDeliveryAsync(notice, T0);

        var again = await Ledger.ApplyDeliveryAsync(notice, T0.AddMinutes(1));

        Assert.Equal(DeliveryOutcomeKind.Replayed, again.Kind);
        Assert.Equal(first.Lot, again.Lot);
        Assert.Single(await Ledger.GetLotsAsync(AccountId));
    }

    [Fact]
    public async Task The_same_id_with_another_payload_is_a_conflict_and_changes_nothing()
    {
        var notice = Notice(AccountId, 10 * Unit, payload: "first");
        var first = await Ledger.ApplyDeliveryAsync(notice, T0);
        var tampered = Notice(AccountId, 99 * Unit, deliveryId: notice.DeliveryId, payload: "second");

        var outcome = await Ledger.ApplyDeliveryAsync(tampered, T0);

        Assert.Equal(DeliveryOutcomeKind.Conflict, outcome.Kind);
        Assert.Equal(first.Lot, outcome.Lot);
        Assert.Equal(10 * Unit, Assert.Single(await Ledger.GetLotsAsync(AccountId)).DeliveredMicro);
    }

    [Fact]
    public async Task A_delivery_to_an_unknown_account_is_refused_and_changes_nothing()
    {
        var outcome = await Ledger.ApplyDeliveryAsync(Notice("acct_ffffffffffffffff", 10 * Unit), T0);

        Assert.Equal(DeliveryOutcomeKind.UnknownAccount, outcome.Kind);
        Assert.Null(outcome.Lot);
        Assert.Empty(await Ledger.GetLotsAsync("acct_ffffffffffffffff"));
        Assert.Empty(await Ledger.GetLotsAsync(AccountId));
    }

    [Fact]
    public async Task Concurrent_copies_of_one_delivery_apply_it_once()
    {
        var notice = Notice(AccountId, 10 * Unit);

        var outcomes = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => Task.Run(() => Ledger.ApplyDeliveryAsync(notice, T0))));

        Assert.Single(outcomes, o => o.Kind == DeliveryOutcomeKind.Applied);
        Assert.All(outcomes, o => Assert.Equal(outcomes[0].Lot!.LotId, o.Lot!.LotId));
        Assert.Single(await Ledger.GetLotsAsync(AccountId));
    }

    [Fact]
    public async Task A_window_that_ends_before_it_starts_is_refused_before_anything_is_written()
    {
        var notice = Notice(AccountId, Unit, windowStart: T0, windowEnd: T0.AddDays(-1));

        await Assert.ThrowsAsync<ArgumentException>(() => Ledger.ApplyDeliveryAsync(notice, T0));
        Assert.Empty(await Ledger.GetLotsAsync(AccountId));
    }
}
