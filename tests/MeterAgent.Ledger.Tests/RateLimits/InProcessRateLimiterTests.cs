using MeterAgent.Ledger.RateLimits;
using MeterAgent.Ledger.Sqlite;
using MeterAgent.Ledger.Tests.Sqlite;
using Microsoft.Extensions.Options;

namespace MeterAgent.Ledger.Tests.RateLimits;

/// <summary>The embedded store: policies in SQLite, buckets in process.</summary>
public sealed class InProcessRateLimiterTests : RateLimiterContract
{
    protected override Task<RateLimitHarness> OpenAsync(RateLimitOptions? options = null)
    {
        var folder = new TempFolder();
        var store = TestStore.Open(folder.DbPath);
        var policies = new SqliteRateLimitPolicyStore(store.Writer, store.Database);
        var limiter = new InProcessRateLimiter(policies, Options.Create(options ?? new RateLimitOptions()), Clock);
        return Task.FromResult<RateLimitHarness>(new Harness(folder, store) { Limiter = limiter, Replica = limiter, Policies = policies });
    }

    [Fact]
    public async Task Policies_survive_a_restart_of_the_store()
    {
        using var folder = new TempFolder();
        string account;
        await using (var store = TestStore.Open(folder.DbPath))
        {
            account = (await store.Accounts.CreateAccountAsync("acme")).Id;
            using var policies = new SqliteRateLimitPolicyStore(store.Writer, store.Database);
            await policies.SetAsync(RateLimitSubject.Account(account), new RateLimitPolicy(1234, null));
            await policies.SetAsync(RateLimitSubject.Key(account, "key_a"), new RateLimitPolicy(null, 9));
        }

        await using (var store = TestStore.Open(folder.DbPath))
        {
            using var policies = new SqliteRateLimitPolicyStore(store.Writer, store.Database);
            Assert.Equal(new RateLimitPolicy(1234, null), await policies.GetAsync(RateLimitSubject.Account(account)));
            Assert.Equal(new RateLimitPolicy(null, 9), await policies.GetAsync(RateLimitSubject.Key(account, "key_a")));
        }
    }

    [Fact]
    public async Task A_policy_for_an_unknown_account_is_refused_and_an_out_of_range_one_is_never_stored()
    {
        using var folder = new TempFolder();
        await using var store = TestStore.Open(folder.DbPath);
        using var policies = new SqliteRateLimitPolicyStore(store.Writer, store.Database);
        await Assert.ThrowsAsync<KeyNotFoundException>(() => policies.SetAsync(RateLimitSubject.Account("acct_nobody"), new RateLimitPolicy(1, 1)));
        Assert.Null(await policies.GetAsync(RateLimitSubject.Account("acct_nobody")));

        var account = (await store.Accounts.CreateAccountAsync("acme")).Id;
        await Assert.ThrowsAsync<ArgumentException>(() => policies.SetAsync(RateLimitSubject.Account(account), new RateLimitPolicy(0, null)));
        await Assert.ThrowsAsync<ArgumentException>(() => policies.SetAsync(RateLimitSubject.Account(account), new RateLimitPolicy(null, RateLimitPolicy.MaxPerMinute + 1)));
    }

    private sealed class Harness(TempFolder folder, TestStore store) : RateLimitHarness
    {
        public override async Task<string> NewAccountAsync() => (await store.Accounts.CreateAccountAsync("limited")).Id;

        public override async ValueTask DisposeAsync()
        {
            ((IDisposable)Policies).Dispose();
            await store.DisposeAsync();
            folder.Dispose();
        }
    }
}
