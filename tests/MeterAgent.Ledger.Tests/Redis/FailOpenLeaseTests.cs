using MeterAgent.Ledger.Redis;

namespace MeterAgent.Ledger.Tests.Redis;

/// <summary>The fail_open lease: exact under concurrency, per account, refilled only by a reconciliation.</summary>
public sealed class FailOpenLeaseTests
{
    [Fact]
    public async Task Concurrent_takes_never_pass_the_limit_and_use_all_the_room_they_can()
    {
        var lease = new FailOpenLease(1000);
        var granted = 0;
        await Parallel.ForEachAsync(Enumerable.Range(0, 4000), new ParallelOptions { MaxDegreeOfParallelism = 16 }, (i, _) =>
        {
            if (lease.TryTake("acct", 3))
            {
                Interlocked.Increment(ref granted);
            }

            return ValueTask.CompletedTask;
        });

        Assert.Equal(333, granted);
        Assert.Equal(999, lease.InUseMicroOf("acct"));
        Assert.False(lease.TryTake("acct", 2));
        Assert.True(lease.TryTake("acct", 1));
        Assert.True(lease.TryTake("other", 1000), "each account has a lease of its own");
        Assert.Equal(2000, lease.InUseMicro);
    }

    [Fact]
    public void A_released_grant_gives_its_room_back_and_a_zero_lease_grants_nothing()
    {
        var lease = new FailOpenLease(10);
        Assert.True(lease.TryTake("acct", 10));
        Assert.False(lease.TryTake("acct", 1));
        lease.Release("acct", 4);
        Assert.True(lease.TryTake("acct", 4));
        Assert.False(lease.TryTake("acct", 11));

        var none = new FailOpenLease(0);
        Assert.False(none.TryTake("acct", 0));
        Assert.Equal(0, none.InUseMicro);
    }
}
