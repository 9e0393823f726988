using MeterAgent.Ledger.Sqlite;

namespace MeterAgent.Ledger.Tests.Sqlite;

public sealed class CreditWriteStepsTests
{
    [Fact]
    public void A_guard_that_holds_formats_no_message_and_one_that_fails_names_what_disagreed()
    {
        var lot = new Formatted("lot_1");
        CreditWriteSteps.Expect(1, $"lot {lot} does not hold the {42L} pending");
        Assert.Equal(0, lot.Formats);

        var failure = Assert.Throws<InvalidOperationException>(() => CreditWriteSteps.Expect(0, $"lot {lot} does not hold the {42L} pending"));
        Assert.Equal("Credit ledger inconsistency: lot lot_1 does not hold the 42 pending.", failure.Message);
        Assert.Equal(1, lot.Formats);
        Assert.Throws<InvalidOperationException>(() => CreditWriteSteps.Expect(2, $"reservation {lot} changed twice"));
    }

    [Fact]
    public void Lot_ids_written_one_after_another_on_one_thread_each_read_back_whole()
    {
        // The writer and its buffer are reused per thread: a short list after a long one must not keep the long one's tail.
        string[] many = ["lot_a", "lot_\"quoted\"", "lot_é", "lot_d"];
        Assert.Equal(many, LotIdsJson.Read(LotIdsJson.Write(many)));
        Assert.Equal(["lot_x"], LotIdsJson.Read(LotIdsJson.Write(["lot_x"])));
        Assert.Equal(LotIdsJson.Empty, LotIdsJson.Write([]));
    }

    private sealed class Formatted(string text)
    {
        public int Formats { get; private set; }

        public override string ToString()
        {
            Formats++;
            return text;
        }
    }
}
