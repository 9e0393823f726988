using MeterAgent.Ledger.Usage;

namespace MeterAgent.Ledger.Tests.Records;

/// <summary>
/// The record keeps its optional counts, amounts, statuses and times without <see cref="Nullable{T}"/>: "none" must still
/// read back as none, every value as itself (zero included), and the one value that stands for none is refused, never
/// read back as a different thing than was written.
/// </summary>
public sealed class UsageRecordOptionalTests
{
    private static UsageRecord Record() => new()
    {
        Id = "u-1", AccountId = "acct-1", KeyId = "key-1", Surface = "openai.chat_completions", StartedAt = DateTimeOffset.UnixEpoch,
    };

    [Fact]
    public void A_new_record_has_none_of_its_optional_values()
    {
        var r = Record();

        Assert.Equal(
            new object?[] { null, null, null, null, null, null, null, null, null, null, null, null },
            new object?[] { r.NativeInputTokens, r.NativeCachedInputTokens, r.NativeCacheWriteTokens, r.NativeOutputTokens, r.NativeReasoningTokens,
                r.UnitsMicro, r.RedeemedMicro, r.OverageMicro, r.HttpStatus, r.ContractVersion, r.FirstTokenAt, r.EndedAt });
    }

    [Theory]
    [InlineData(0L)]
    [InlineData(1L)]
    [InlineData(-1L)]
    [InlineData(long.MaxValue)]
    [InlineData(long.MinValue + 1)]
    public void Every_value_reads_back_as_itself_and_none_as_none(long value)
    {
        var r = Record();
        var time = DateTimeOffset.UnixEpoch.AddTicks(Math.Abs(value % TimeSpan.TicksPerDay));
        var small = (int)Math.Clamp(value, int.MinValue + 1, int.MaxValue);

        r.NativeInputTokens = r.NativeCachedInputTokens = r.NativeCacheWriteTokens = r.NativeOutputTokens = r.NativeReasoningTokens = value;
        r.UnitsMicro = r.RedeemedMicro = r.OverageMicro = value;
        r.HttpStatus = r.ContractVersion = small;
        r.FirstTokenAt = r.EndedAt = time;

        Assert.All(new[] { r.NativeInputTokens, r.NativeCachedInputTokens, r.NativeCacheWriteTokens, r.NativeOutputTokens, r.NativeReasoningTokens, r.UnitsMicro, r.RedeemedMicro, r.OverageMicro },
            read => Assert.Equal(value, read));
        Assert.Equal((small, small, time, time), (r.HttpStatus, r.ContractVersion, r.FirstTokenAt, r.EndedAt));

        r.NativeInputTokens = null;
        r.OverageMicro = null;
        r.HttpStatus = null;
        r.EndedAt = null;
        Assert.Equal((null, null, null, null), (r.NativeInputTokens, r.OverageMicro, r.HttpStatus, r.EndedAt));
        Assert.Equal((value, value), (r.NativeOutputTokens, r.UnitsMicro));
    }

    [Fact]
    public void The_value_that_stands_for_none_is_refused_rather_than_read_back_as_none()
    {
        var r = Record();

        Assert.Throws<ArgumentOutOfRangeException>(() => r.NativeOutputTokens = long.MinValue);
        Assert.Throws<ArgumentOutOfRangeException>(() => r.RedeemedMicro = long.MinValue);
        Assert.Throws<ArgumentOutOfRangeException>(() => r.HttpStatus = int.MinValue);
        Assert.Throws<ArgumentOutOfRangeException>(() => r.EndedAt = DateTimeOffset.MinValue);
        Assert.Null(r.NativeOutputTokens);
    }
}
