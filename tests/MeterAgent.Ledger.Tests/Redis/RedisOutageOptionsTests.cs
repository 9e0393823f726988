using MeterAgent.Ledger.Redis;

namespace MeterAgent.Ledger.Tests.Redis;

/// <summary><c>Redis:OutagePolicy</c> and <c>Redis:OutageRetryAfter</c>: a bad value stops the start with the key's name.</summary>
public sealed class RedisOutageOptionsTests
{
    private static IEnumerable<string> Failures(Action<RedisStoreOptions> change)
    {
        var options = new RedisStoreOptions { ConnectionString = "localhost:6379" };
        change(options);
        return new RedisStoreOptionsValidator().Validate(null, options).Failures ?? [];
    }

    [Fact]
    public void Fail_closed_is_the_default_and_valid() =>
        Assert.Empty(Failures(_ => { }));

    [Fact]
    public void Fail_open_is_accepted_with_the_default_lease()
    {
        Assert.Empty(Failures(o => o.OutagePolicy = "fail_open"));
        Assert.Equal(1000, new RedisStoreOptions().FailOpenLease);
        Assert.Empty(Failures(o => (o.OutagePolicy, o.FailOpenLease) = ("fail_open", 0)));
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(RedisStoreOptions.MaxFailOpenLease + 1)]
    public void A_lease_out_of_range_is_refused_naming_the_key(long lease) =>
        Assert.Contains(Failures(o => (o.OutagePolicy, o.FailOpenLease) = ("fail_open", lease)), f => f.Contains("Redis:FailOpenLease", StringComparison.Ordinal));

    [Theory]
    [InlineData("FAIL_CLOSED")]
    [InlineData("FAIL_OPEN")]
    [InlineData("open")]
    public void Other_policies_are_refused_naming_the_key(string policy) =>
        Assert.Contains(Failures(o => o.OutagePolicy = policy), f => f.Contains("Redis:OutagePolicy", StringComparison.Ordinal));

    [Fact]
    public void Retry_after_out_of_range_is_refused_naming_the_key() =>
        Assert.Contains(Failures(o => o.OutageRetryAfter = TimeSpan.Zero), f => f.Contains("Redis:OutageRetryAfter", StringComparison.Ordinal));
}
