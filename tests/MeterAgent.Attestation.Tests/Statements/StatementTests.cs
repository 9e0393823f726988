using System.Text;
using MeterAgent.Attestation.Entries;
using MeterAgent.Attestation.Statements;

namespace MeterAgent.Attestation.Tests.Statements;

public sealed class StatementTests
{
    private static UsageEntry Entry(string account, long? nativeIn, long refIn, long refOut, long units, long redeemed, long overage, bool nonText = false) => new()
    {
        UsageId = Guid.NewGuid().ToString("N"),
        AccountId = account,
        Surface = "openai.chat_completions",
        StartedAtMicros = 1,
        EndedAtMicros = 2,
        Status = "completed",
        NativeInputTokens = nativeIn,
        NativeOutputTokens = nativeIn is null ? null : refOut + 1,
        ReferenceInputTokens = refIn,
        ReferenceOutputTokens = refOut,
        UnitsMicro = units,
        RedeemedMicro = redeemed,
        OverageMicro = overage,
        NonTextInput = nonText,
    };

    [Fact]
    public void Totals_are_summed_per_account_in_account_order()
    {
        var totals = StatementTotals.Sum(
        [
            Entry("b", 10, 8, 20, 48_000_000, 40_000_000, 8_000_000),
            Entry("a", null, 5, 7, 19_000_000, 19_000_000, 0, nonText: true),
            Entry("b", 12, 9, 30, 69_000_000, 69_000_000, 0),
        ]);

        Assert.Equal(["a", "b"], totals.Select(t => t.AccountId));
        var a = totals[0];
        Assert.Equal((1L, 0L, 5L, 7L, 19_000_000L, 1L, 1L), (a.Records, a.NativeInputTokens, a.ReferenceInputTokens, a.ReferenceOutputTokens, a.UnitsMicro, a.EstimatedRecords, a.NonTextRecords));
        var b = totals[1];
        // native output = reference output + 1 in each entry: 21 + 31.
        Assert.Equal((2L, 22L, 52L, 17L, 50L, 117_000_000L, 109_000_000L, 8_000_000L, 0L), (b.Records, b.NativeInputTokens, b.NativeOutputTokens, b.ReferenceInputTokens, b.ReferenceOutputTokens, b.UnitsMicro, b.RedeemedMicro, b.OverageMicro, b.EstimatedRecords));
    }

    private static UsageStatement Statement() => new()
    {
        Sequence = 3,
        ContractId = "gpt4o-2026q1",
        IntervalStart = new DateTimeOffset(2026, 11, 29, 12, 0, 0, TimeSpan.Zero),
        IntervalEnd = new DateTimeOffset(2026, 11, 29, 12, 15, 0, TimeSpan.Zero),
        LogOrigin = "meteragent.example/log",
        TreeSize = 42,
        RootHash = Enumerable.Range(0, 32).Select(i => (byte)i).ToArray(),
        Leaves = [3, 7, 41],
        Accounts = StatementTotals.Sum([Entry("acct", 4, 4, 4, 12_000_000, 12_000_000, 0)]),
        PreviousDigest = Enumerable.Repeat((byte)0xab, 32).ToArray(),
        Amends = 2,
    };

    [Fact]
    public void A_statement_is_an_in_toto_statement_about_its_tree_and_reads_back_whole()
    {
        var statement = Statement();
        var json = Encoding.UTF8.GetString(StatementFormat.Write(statement));

        Assert.StartsWith(
            """{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"meteragent.example/log/tree/42","digest":{"sha256":"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"}}],"predicateType":"https://meteragent.dev/attestation/usage-statement/v1","predicate":{"sequence":3,"contract_id":"gpt4o-2026q1","interval_start":"2026-11-29T12:00:00Z","interval_end":"2026-11-29T12:15:00Z",""",
            json,
            StringComparison.Ordinal);

        var read = StatementFormat.Read(Encoding.UTF8.GetBytes(json));
        Assert.Equal(
            (statement.Sequence, statement.ContractId, statement.IntervalStart, statement.IntervalEnd, statement.TreeSize, statement.Amends),
            (read.Sequence, read.ContractId, read.IntervalStart, read.IntervalEnd, read.TreeSize, read.Amends));
        Assert.Equal(statement.RootHash, read.RootHash);
        Assert.Equal(statement.PreviousDigest, read.PreviousDigest);
        Assert.Equal(statement.Leaves, read.Leaves);
        Assert.Equal(statement.Accounts, read.Accounts);
        Assert.Equal(StatementFormat.Write(statement), StatementFormat.Write(read));
    }

    [Fact]
    public void A_subject_that_does_not_match_its_predicate_is_refused()
    {
        var json = Encoding.UTF8.GetString(StatementFormat.Write(Statement()));

        var otherTree = json.Replace("\"name\":\"meteragent.example/log/tree/42\"", "\"name\":\"meteragent.example/log/tree/43\"", StringComparison.Ordinal);
        Assert.Contains("subject", Assert.Throws<FormatException>(() => StatementFormat.Read(Encoding.UTF8.GetBytes(otherTree))).Message, StringComparison.Ordinal);
        var otherType = json.Replace("usage-statement/v1", "usage-statement/v9", StringComparison.Ordinal);
        Assert.Contains("predicateType", Assert.Throws<FormatException>(() => StatementFormat.Read(Encoding.UTF8.GetBytes(otherType))).Message, StringComparison.Ordinal);
        Assert.Throws<FormatException>(() => StatementFormat.Read("{}"u8));
    }
}
