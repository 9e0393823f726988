using static MeterAgent.Ledger.Tests.Credits.Credit;

namespace MeterAgent.Ledger.Tests.Credits;

public abstract class CorrectionTests : LedgerContract
{
    /// <summary>
    /// The lot's corrections as the backend keeps them for audit (delta, reason, when in Unix microseconds), oldest
    /// first: the interface does not read them back, so each backend says where they are.
    /// </summary>
    protected abstract (long Delta, string Reason, long At)[] Audit(string lotId);

    [Fact]
    public async Task A_correction_moves_delivered_and_available_together_and_is_audited_with_its_reason()
    {
        var lotId = await DeliverAsync(10 * Unit);
        await Ledger.ReserveAsync(Request(AccountId, 4 * Unit));

        var raised = await Ledger.CorrectAsync(lotId, 2 * Unit, "short delivery in batch 7", T0);
        var lowered = await Ledger.CorrectAsync(lotId, -8 * Unit, "duplicate of dlv 12", T0.AddMinutes(1));

        Assert.Equal((12 * Unit, 8 * Unit, 4 * Unit), (raised!.DeliveredMicro, raised.AvailableMicro, raised.PendingMicro));
        Assert.Equal((4 * Unit, 0L, 4 * Unit), (lowered!.DeliveredMicro, lowered.AvailableMicro, lowered.PendingMicro));
        var micros = T0.ToUnixTimeMilliseconds() * 1000;
        Assert.Equal(
            [(2 * Unit, "short delivery in batch 7", micros), (-8 * Unit, "duplicate of dlv 12", micros + 60_000_000)],
            Audit(lotId));
    }

    [Fact]
    public async Task A_correction_that_would_take_back_reserved_or_redeemed_credit_is_refused_and_not_audited()
    {
        var lotId = await DeliverAsync(10 * Unit);
        await Ledger.ReserveAsync(Request(AccountId, 4 * Unit));

        Assert.Null(await Ledger.CorrectAsync(lotId, -7 * Unit, "too much", T0));

        var lot = Assert.Single(await Ledger.GetLotsAsync(AccountId));
        Assert.Equal((10 * Unit, 6 * Unit), (lot.DeliveredMicro, lot.AvailableMicro));
        Assert.Empty(Audit(lotId));
    }

    [Fact]
    public async Task A_correction_of_an_unknown_lot_throws()
    {
        await Assert.ThrowsAsync<KeyNotFoundException>(() => Ledger.CorrectAsync("lot_0000000000000000", Unit, "why", T0));
    }
}
