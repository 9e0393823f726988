using MeterAgent.Ledger.RateLimits;
using Microsoft.Extensions.Time.Testing;

namespace MeterAgent.Ledger.Tests.RateLimits;

/// <summary>
/// What every rate limiter backend does, run against each (embedded, Redis, Redis Cluster). The clock is fake: it
/// stands still unless a test moves it, so "per minute" is exact.
/// </summary>
public abstract class RateLimiterContract
{
    protected FakeTimeProvider Clock { get; } = new(new DateTimeOffset(2026, 3, 2, 9, 0, 0, TimeSpan.Zero));

    protected abstract Task<RateLimitHarness> OpenAsync(RateLimitOptions? options = null);

    protected const string KeyId = "key_00000000000000k1";

    [SkippableFact]
    public async Task Without_policies_or_defaults_nothing_is_limited_or_reported()
    {
        await using var rl = await OpenAsync();
        var account = await rl.NewAccountAsync();
        var decision = await rl.Limiter.AcquireAsync(account, KeyId, 1_000_000);
        Assert.Same(RateLimitDecision.Unlimited, decision);
        Assert.False(decision.Limited);
        Assert.Null(decision.Lease);
    }

    [SkippableFact]
    public async Task Sixty_four_concurrent_callers_on_two_replicas_are_admitted_exactly_up_to_the_token_limit()
    {
        await using var rl = await OpenAsync();
        var account = await rl.NewAccountAsync();
        await rl.Policies.SetAsync(RateLimitSubject.Account(account), new RateLimitPolicy(1000, null));

        // 64 callers of 45 tokens against 1000: exactly 22 fit (990), the 23rd would make 1035.
        var start = new TaskCompletionSource();
        var callers = Enumerable.Range(0, 64).Select(i => Task.Run(async () =>
        {
            await start.Task;
            return await (i % 2 == 0 ? rl.Limiter : rl.Replica).AcquireAsync(account, KeyId, 45);
        })).ToArray();
        start.SetResult();
        var decisions = await Task.WhenAll(callers);

        Assert.Equal(22, decisions.Count(d => d.Allowed));
        Assert.All(decisions.Where(d => !d.Allowed), d =>
        {
            Assert.Null(d.Lease);
            Assert.Equal(TimeSpan.FromMilliseconds(2100), d.RetryAfter); // 35 tokens over at 1000 a minute
            Assert.Equal(10, d.Tokens!.Value.Remaining);
        });
        var after = await rl.Limiter.AcquireAsync(account, KeyId, 10);
        Assert.True(after.Allowed);
        Assert.Equal(new RateLimitWindow(1000, 0, TimeSpan.FromMinutes(1)), after.Tokens);
    }

    [SkippableFact]
    public async Task Sixty_four_concurrent_callers_are_admitted_exactly_up_to_the_request_limit_of_the_key()
    {
        await using var rl = await OpenAsync();
        var account = await rl.NewAccountAsync();
        await rl.Policies.SetAsync(RateLimitSubject.Key(account, KeyId), new RateLimitPolicy(null, 7));

        var decisions = await Task.WhenAll(Enumerable.Range(0, 64).Select(i =>
            Task.Run(async () => await (i % 2 == 0 ? rl.Limiter : rl.Replica).AcquireAsync(account, KeyId, 0))));

        Assert.Equal(7, decisions.Count(d => d.Allowed));
        Assert.All(decisions, d => Assert.Null(d.Tokens));
        Assert.All(decisions.Where(d => !d.Allowed), d => Assert.Equal("requests per minute of the key", d.Refusal));

        // Another key of the account is not limited by this one's policy.
        Assert.Same(RateLimitDecision.Unlimited, await rl.Limiter.AcquireAsync(account, "key_other", 0));
    }

    [SkippableFact]
    public async Task A_refusal_charges_nothing_anywhere_so_the_account_and_key_move_together()
    {
        await using var rl = await OpenAsync();
        var account = await rl.NewAccountAsync();
        await rl.Policies.SetAsync(RateLimitSubject.Account(account), new RateLimitPolicy(100, 50));
        await rl.Policies.SetAsync(RateLimitSubject.Key(account, KeyId), new RateLimitPolicy(1000, 3));

        Assert.True((await rl.Limiter.AcquireAsync(account, KeyId, 60)).Allowed);
        var refused = await rl.Limiter.AcquireAsync(account, KeyId, 60);
        Assert.False(refused.Allowed);
        Assert.Equal("tokens per minute of the account", refused.Refusal);

        // The key's request bucket took one request, not two: two more fit, then its limit of 3 binds.
        Assert.True((await rl.Limiter.AcquireAsync(account, KeyId, 1)).Allowed);
        var third = await rl.Limiter.AcquireAsync(account, KeyId, 1);
        Assert.True(third.Allowed);
        Assert.Equal(new RateLimitWindow(3, 0, TimeSpan.FromMinutes(1)), third.Requests);
        Assert.Equal(38, third.Tokens!.Value.Remaining); // the account's 100 binds, less than the key's 1000: 100 − 62
        var fourth = await rl.Limiter.AcquireAsync(account, KeyId, 1);
        Assert.Equal("requests per minute of the key", fourth.Refusal);
    }

    [SkippableFact]
    public async Task Settling_corrects_by_actual_minus_estimate_both_ways_and_refunds_an_unforwarded_request()
    {
        await using var rl = await OpenAsync();
        var account = await rl.NewAccountAsync();
        await rl.Policies.SetAsync(RateLimitSubject.Account(account), new RateLimitPolicy(1000, 10));

        var first = await rl.Limiter.AcquireAsync(account, KeyId, 400);
        Assert.Equal(600, first.Tokens!.Value.Remaining);
        Assert.Equal(9, first.Requests!.Value.Remaining);

        await rl.Replica.SettleAsync(first.Lease!, actualTokens: 100, forwarded: true);
        Assert.Equal(800, (await rl.Limiter.AcquireAsync(account, KeyId, 100)).Tokens!.Value.Remaining);

        // The actual can exceed the estimate: the extra is charged, and may put the bucket in debt.
        var big = await rl.Limiter.AcquireAsync(account, KeyId, 700);
        Assert.Equal(100, big.Tokens!.Value.Remaining);
        await rl.Limiter.SettleAsync(big.Lease!, actualTokens: 1500, forwarded: true);
        var inDebt = await rl.Limiter.AcquireAsync(account, KeyId, 1);
        Assert.False(inDebt.Allowed);
        Assert.Equal(0, inDebt.Tokens!.Value.Remaining);
        Assert.Equal(TimeSpan.FromMilliseconds(42_060), inDebt.RetryAfter); // 1700 + 1 − 1000 tokens at 1000/min
        Assert.Equal(TimeSpan.FromMilliseconds(102_000), inDebt.Tokens!.Value.Reset);

        Clock.Advance(TimeSpan.FromMinutes(2));
        var unforwarded = await rl.Limiter.AcquireAsync(account, KeyId, 300);
        Assert.Equal(700, unforwarded.Tokens!.Value.Remaining);
        Assert.Equal(9, unforwarded.Requests!.Value.Remaining);
        await rl.Limiter.SettleAsync(unforwarded.Lease!, actualTokens: 0, forwarded: false);
        var whole = await rl.Limiter.AcquireAsync(account, KeyId, 0);
        Assert.Equal(1000, whole.Tokens!.Value.Remaining);
        Assert.Equal(9, whole.Requests!.Value.Remaining); // this request's own, the refunded one is back
    }

    [SkippableFact]
    public async Task The_bucket_refills_continuously_and_is_whole_again_a_minute_after_it_was_full()
    {
        await using var rl = await OpenAsync();
        var account = await rl.NewAccountAsync();
        await rl.Policies.SetAsync(RateLimitSubject.Account(account), new RateLimitPolicy(600, null));

        Assert.True((await rl.Limiter.AcquireAsync(account, KeyId, 600)).Allowed);
        var refused = await rl.Limiter.AcquireAsync(account, KeyId, 100);
        Assert.False(refused.Allowed);
        Assert.Equal(TimeSpan.FromSeconds(10), refused.RetryAfter); // 100 tokens at 10 a second
        Assert.Equal(new RateLimitWindow(600, 0, TimeSpan.FromMinutes(1)), refused.Tokens);

        Clock.Advance(TimeSpan.FromSeconds(9.999));
        Assert.False((await rl.Replica.AcquireAsync(account, KeyId, 100)).Allowed);
        Clock.Advance(TimeSpan.FromMilliseconds(1));
        var admitted = await rl.Replica.AcquireAsync(account, KeyId, 100);
        Assert.True(admitted.Allowed);
        Assert.Equal(0, admitted.Tokens!.Value.Remaining);

        Clock.Advance(TimeSpan.FromSeconds(30));
        Assert.Equal(300, (await rl.Limiter.AcquireAsync(account, KeyId, 0)).Tokens!.Value.Remaining);
        Clock.Advance(TimeSpan.FromSeconds(60));
        Assert.Equal(new RateLimitWindow(600, 600, TimeSpan.Zero), (await rl.Limiter.AcquireAsync(account, KeyId, 0)).Tokens);
    }

    [SkippableFact]
    public async Task An_estimate_larger_than_the_limit_is_refused_with_no_retry_after_since_it_never_fits()
    {
        await using var rl = await OpenAsync();
        var account = await rl.NewAccountAsync();
        await rl.Policies.SetAsync(RateLimitSubject.Account(account), new RateLimitPolicy(1000, null));

        var refused = await rl.Limiter.AcquireAsync(account, KeyId, 1001);
        Assert.False(refused.Allowed);
        Assert.Null(refused.RetryAfter);
        Assert.Equal("tokens per minute of the account", refused.Refusal);
        Assert.Equal(1000, refused.Tokens!.Value.Remaining);
    }

    [SkippableFact]
    public async Task Defaults_apply_to_accounts_without_a_policy_and_an_account_policy_replaces_them_whole()
    {
        await using var rl = await OpenAsync(new RateLimitOptions { DefaultTokensPerMinute = 100, DefaultRequestsPerMinute = 2 });
        var account = await rl.NewAccountAsync();
        Assert.Null(await rl.Policies.GetAsync(RateLimitSubject.Account(account)));

        var byDefault = await rl.Limiter.AcquireAsync(account, KeyId, 10);
        Assert.Equal(new RateLimitWindow(100, 90, TimeSpan.FromSeconds(6)), byDefault.Tokens);
        Assert.Equal(1, byDefault.Requests!.Value.Remaining);

        // Its own policy: no request limit now, a larger token limit; the next request sees it.
        var own = new RateLimitPolicy(5000, null);
        await rl.Policies.SetAsync(RateLimitSubject.Account(account), own);
        Assert.Equal(own, await rl.Policies.GetAsync(RateLimitSubject.Account(account)));
        var underOwn = await rl.Replica.AcquireAsync(account, KeyId, 10);
        Assert.Null(underOwn.Requests);
        Assert.Equal(4980, underOwn.Tokens!.Value.Remaining);

        // Explicitly unlimited beats the defaults too; clearing brings them back.
        await rl.Policies.SetAsync(RateLimitSubject.Account(account), RateLimitPolicy.Unlimited);
        Assert.Same(RateLimitDecision.Unlimited, await rl.Limiter.AcquireAsync(account, KeyId, 10));
        Assert.True(await rl.Policies.ClearAsync(RateLimitSubject.Account(account)));
        Assert.False(await rl.Policies.ClearAsync(RateLimitSubject.Account(account)));
        Assert.Equal(100, (await rl.Limiter.AcquireAsync(account, KeyId, 0)).Tokens!.Value.Limit);
    }

    [SkippableFact]
    public async Task Key_policies_are_stored_apart_from_the_account_and_from_other_keys()
    {
        await using var rl = await OpenAsync();
        var account = await rl.NewAccountAsync();
        var key = RateLimitSubject.Key(account, KeyId);
        await rl.Policies.SetAsync(key, new RateLimitPolicy(10, 20));
        Assert.Equal(new RateLimitPolicy(10, 20), await rl.Policies.GetAsync(key));
        Assert.Null(await rl.Policies.GetAsync(RateLimitSubject.Account(account)));
        Assert.Null(await rl.Policies.GetAsync(RateLimitSubject.Key(account, "key_other")));

        await rl.Policies.SetAsync(key, new RateLimitPolicy(null, 5));
        Assert.Equal(new RateLimitPolicy(null, 5), await rl.Policies.GetAsync(key));
        Assert.True(await rl.Policies.ClearAsync(key));
        Assert.Null(await rl.Policies.GetAsync(key));
    }
}
