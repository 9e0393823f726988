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

    [Theory]
    [InlineData("fail_open")]
    [InlineData("FAIL_CLOSED")]
    [InlineData("open")]
    public void Other_policies_are_refused_naming_the_key(string policy) =>
        Assert.Contains(Failures(o => o.OutagePolicy = policy), f => f.Contains("Redis:OutagePolicy", StringComparison.Ordinal));

    [Fact]
    public void Retry_after_out_of_range_is_refused_naming_the_key() =>
        Assert.Contains(Failures(o => o.OutageRetryAfter = TimeSpan.Zero), f => f.Contains("Redis:OutageRetryAfter", StringComparison.Ordinal));
}
