using System.Globalization;
using MeterAgent.Ledger.Credits;
using MeterAgent.Ledger.Redis;
using Microsoft.Extensions.Time.Testing;
using StackExchange.Redis;
using static MeterAgent.Ledger.Tests.Credits.Credit;

namespace MeterAgent.Ledger.Tests.Redis;

/// <summary>What only the Redis backend can show: its scripts' idempotency and safety bounds, and its key cache across replicas.</summary>
[Collection(RedisServerCollection.Name)]
public sealed class RedisLedgerTests(RedisServerFixture redis) : IAsyncLifetime
{
    private RedisLedgerStores _stores = null!;
    private string _accountId = null!;

    private RedisCreditLedger Ledger => _stores.RedisLedger;

    public async Task InitializeAsync()
    {
        _stores = redis.OpenStores(new FakeTimeProvider(T0));
        _accountId = (await _stores.Accounts.CreateAccountAsync("Acme")).Id;
    }

    public async Task DisposeAsync() => await _stores.DisposeAsync();

    [Fact]
    public async Task A_script_retried_after_it_succeeded_changes_nothing_the_second_time()
    {
        await Ledger.ApplyDeliveryAsync(Notice(_accountId, 10 * Unit), T0);
        var request = Request(_accountId, 4 * Unit);
        var keys = _stores.Connection.Keys;

        // The reserve, as a replica whose first call timed out after Redis ran it would send it again.
        var first = await Ledger.ReserveAsync(request);
        var snapshot = await SnapshotAsync(request.ReservationId);
        var retried = await Ledger.ReserveAsync(request);
        Assert.Equal(first.Reservation!.Draws, retried.Reservation!.Draws);
        Assert.Equal(snapshot, await SnapshotAsync(request.ReservationId));

        // The settle script itself, run twice with the same arguments, then a post and a void of the resolved reservation.
        RedisValue[] args = [keys.AccountSpace(_accountId), 60_000, request.ReservationId, "post", 3 * Unit, string.Empty];
        var once = RedisCodec.Strings(await _stores.Connection.EvaluateAsync(LedgerScripts.Settle, keys.Account(_accountId), args));
        var posted = await SnapshotAsync(request.ReservationId);
        var twice = RedisCodec.Strings(await _stores.Connection.EvaluateAsync(LedgerScripts.Settle, keys.Account(_accountId), args));
        await Ledger.PostAsync(request.ReservationId, 9 * Unit);
        await Ledger.VoidAsync(request.ReservationId);

        Assert.Equal(once, twice);
        Assert.Equal(posted, await SnapshotAsync(request.ReservationId));
        var lot = Assert.Single(await Ledger.GetLotsAsync(_accountId));
        Assert.Equal((7 * Unit, 0L, 3 * Unit), (lot.AvailableMicro, lot.PendingMicro, lot.RedeemedMicro));
    }

    [Fact]
    public async Task A_local_grant_replayed_twice_is_created_and_posted_once_from_the_lots_in_redemption_order()
    {
        // Two lots: the one whose window ends first is redeemed first; what they cannot cover is overage, whatever the
        // policy (the request was served during the outage).
        await Ledger.ApplyDeliveryAsync(Notice(_accountId, 3 * Unit, windowEnd: T0.AddDays(20)), T0);
        await Ledger.ApplyDeliveryAsync(Notice(_accountId, 4 * Unit, windowEnd: T0.AddDays(10)), T0);
        var keys = _stores.Connection.Keys;
        var id = "res_" + Guid.NewGuid().ToString("N");
        var at = SqliteTimeMicros(T0);
        RedisValue[] args = [keys.AccountSpace(_accountId), 60_000, id, "post", 9 * Unit, at, "c:gpt4o-2026q1", at, at + 300_000_000];

        var once = RedisCodec.Strings(await _stores.Connection.EvaluateAsync(LedgerScripts.SettleLocal, keys.Account(_accountId), args));
        var posted = await SnapshotAsync(id);
        var twice = RedisCodec.Strings(await _stores.Connection.EvaluateAsync(LedgerScripts.SettleLocal, keys.Account(_accountId), args));

        Assert.Equal(once, twice);
        Assert.Equal(posted, await SnapshotAsync(id));
        var reservation = RedisCodec.Reservation(id, _accountId, once, 1);
        Assert.Equal((ReservationState.Posted, 7 * Unit, 2 * Unit), (reservation.State, reservation.PostedMicro, reservation.OverageMicro));
        var lots = await Ledger.GetLotsAsync(_accountId);
        Assert.Equal([4 * Unit, 3 * Unit], reservation.Draws.Select(d => d.PostedMicro));
        Assert.Equal(lots.Select(l => l.LotId), reservation.Draws.Select(d => d.LotId));
        Assert.All(lots, lot => Assert.Equal((0L, 0L, lot.DeliveredMicro), (lot.AvailableMicro, lot.PendingMicro, lot.RedeemedMicro)));
        Assert.Equal(2 * Unit, await Ledger.GetOverageMicroAsync(_accountId));

        // A local grant voided (nothing forwarded) is stored voided and moves nothing, also when retried.
        var voided = "res_" + Guid.NewGuid().ToString("N");
        RedisValue[] voidArgs = [keys.AccountSpace(_accountId), 60_000, voided, "void", 0, at, "c:gpt4o-2026q1", at, at + 300_000_000];
        await _stores.Connection.EvaluateAsync(LedgerScripts.SettleLocal, keys.Account(_accountId), voidArgs);
        await _stores.Connection.EvaluateAsync(LedgerScripts.SettleLocal, keys.Account(_accountId), voidArgs);
        Assert.Equal(2 * Unit, await Ledger.GetOverageMicroAsync(_accountId));
    }

    [Fact]
    public async Task A_local_grant_whose_reserve_reached_redis_is_posted_as_that_reservation()
    {
        // The reserve's answer was lost in the outage, so the replica granted the same id locally: the replay posts the
        // reservation Redis holds, with its draws, instead of creating another.
        await Ledger.ApplyDeliveryAsync(Notice(_accountId, 10 * Unit), T0);
        var request = Request(_accountId, 4 * Unit);
        Assert.True((await Ledger.ReserveAsync(request)).Granted);
        var keys = _stores.Connection.Keys;
        var at = SqliteTimeMicros(T0);
        RedisValue[] args = [keys.AccountSpace(_accountId), 60_000, request.ReservationId, "post", 3 * Unit, at, "c:gpt4o-2026q1", at, at + 300_000_000];
        await _stores.Connection.EvaluateAsync(LedgerScripts.SettleLocal, keys.Account(_accountId), args);
        await _stores.Connection.EvaluateAsync(LedgerScripts.SettleLocal, keys.Account(_accountId), args);

        var lot = Assert.Single(await Ledger.GetLotsAsync(_accountId));
        Assert.Equal((7 * Unit, 0L, 3 * Unit), (lot.AvailableMicro, lot.PendingMicro, lot.RedeemedMicro));
        Assert.Equal(0, await Ledger.GetOverageMicroAsync(_accountId));
    }

    private static long SqliteTimeMicros(DateTimeOffset at) => (at - DateTimeOffset.UnixEpoch).Ticks / 10;

    [Fact]
    public async Task Scripts_are_called_by_sha_and_run_again_by_source_after_the_server_forgot_them()
    {
        await Ledger.ApplyDeliveryAsync(Notice(_accountId, 10 * Unit), T0);
        Assert.True((await Ledger.ReserveAsync(Request(_accountId, Unit))).Granted);
        Assert.Contains("cmdstat_evalsha:", await redis.Server.CliAsync("info", "commandstats"), StringComparison.Ordinal);
        Assert.Equal(0, _stores.Connection.ScriptFallbacks);

        // As after a restart without the script cache, or a failover to a primary that never loaded them.
        await redis.Server.CliAsync("script", "flush");
        var outcome = await Ledger.ReserveAsync(Request(_accountId, Unit));

        Assert.True(outcome.Granted);
        Assert.Equal(1, _stores.Connection.ScriptFallbacks);
        Assert.Equal(2, Assert.Single(await Ledger.GetLotsAsync(_accountId)).PendingMicro / Unit);
    }

    [Fact]
    public async Task A_key_revoked_on_one_replica_is_refused_on_another_within_the_key_cache_ttl()
    {
        var time = (FakeTimeProvider)_stores.Time;
        var replicaA = _stores.RedisAccounts;
        var replicaB = _stores.NewAccountStore();
        var issued = (await replicaA.IssueKeyAsync(_accountId))!;
        Assert.Equal(issued.Info.KeyId, (await replicaB.AuthenticateAsync(issued.Secret))?.KeyId);

        Assert.True(await replicaA.RevokeKeyAsync(issued.Info.KeyId));

        // The replica that revoked refuses at once; the other still holds its cached lookup, at most for the TTL.
        Assert.Null(await replicaA.AuthenticateAsync(issued.Secret));
        Assert.NotNull(await replicaB.AuthenticateAsync(issued.Secret));
        time.Advance(RedisLedgerStores.KeyCacheTtl);
        Assert.Null(await replicaB.AuthenticateAsync(issued.Secret));
        Assert.NotNull(Assert.Single(await replicaB.ListKeysAsync(_accountId)).RevokedAt);
    }

    [Fact]
    public async Task Keys_are_stored_hashed_and_found_from_any_replica()
    {
        var issued = (await _stores.Accounts.IssueKeyAsync(_accountId))!;
        var other = _stores.NewAccountStore();

        Assert.Equal(issued.Info, await other.AuthenticateAsync(issued.Secret));
        Assert.Null(await other.AuthenticateAsync(issued.Secret[..^1] + (issued.Secret[^1] == 'A' ? 'B' : 'A')));
        Assert.Null(await _stores.Accounts.IssueKeyAsync("acct_ffffffffffffffff"));
        Assert.False(await _stores.Accounts.RevokeKeyAsync("key_ffffffffffffffff"));
        Assert.Equal([issued.Info], await other.ListKeysAsync(_accountId));

        var everything = new List<string>();
        await foreach (var key in redis.Multiplexer.GetServer(redis.Multiplexer.GetEndPoints()[0]).KeysAsync(pattern: _stores.Connection.Keys.Prefix + "*"))
        {
            everything.Add(key!);
            var type = await redis.Multiplexer.GetDatabase().KeyTypeAsync(key);
            var dump = type switch
            {
                RedisType.String => (string?)await redis.Multiplexer.GetDatabase().StringGetAsync(key) ?? string.Empty,
                RedisType.Hash => string.Join(",", await redis.Multiplexer.GetDatabase().HashGetAllAsync(key)),
                _ => string.Empty,
            };
            Assert.DoesNotContain(issued.Secret, dump, StringComparison.Ordinal);
        }

        Assert.Contains(everything, k => k.Contains(ApiKeySecretsHash(issued.Secret), StringComparison.Ordinal));
    }

    [Fact]
    public async Task Amounts_beyond_what_a_lua_number_holds_exactly_are_refused_before_anything_is_written()
    {
        const long TooLarge = (1L << 53) + 1;
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => Ledger.ApplyDeliveryAsync(Notice(_accountId, TooLarge), T0));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => Ledger.ReserveAsync(Request(_accountId, TooLarge)));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => Ledger.SetPolicyAsync(_accountId, new OveragePolicy(OveragePolicyKind.AllowUpTo, long.MaxValue)));

        var lot = (await Ledger.ApplyDeliveryAsync(Notice(_accountId, RedisAmounts.MaxMicro), T0)).Lot!;
        Assert.Equal(RedisAmounts.MaxMicro, lot.AvailableMicro);
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => Ledger.CorrectAsync(lot.LotId, long.MinValue, "absurd", T0));
        await Assert.ThrowsAsync<RedisServerException>(() => Ledger.CorrectAsync(lot.LotId, 1, "one past 2^53-1", T0));

        var reservation = (await Ledger.ReserveAsync(Request(_accountId, RedisAmounts.MaxMicro))).Reservation!;
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => Ledger.PostAsync(reservation.ReservationId, TooLarge));
        var posted = await Ledger.PostAsync(reservation.ReservationId, RedisAmounts.MaxMicro);

        Assert.Equal(RedisAmounts.MaxMicro, posted.PostedMicro);
        var after = Assert.Single(await Ledger.GetLotsAsync(_accountId));
        Assert.Equal((RedisAmounts.MaxMicro, 0L, RedisAmounts.MaxMicro), (after.DeliveredMicro, after.AvailableMicro, after.RedeemedMicro));
    }

    [Fact]
    public async Task Expiry_finds_pending_reservations_in_every_account()
    {
        var other = (await _stores.Accounts.CreateAccountAsync("Other")).Id;
        foreach (var account in new[] { _accountId, other })
        {
            await Ledger.ApplyDeliveryAsync(Notice(account, 10 * Unit), T0);
            Assert.True((await Ledger.ReserveAsync(Request(account, 2 * Unit))).Granted);
        }

        Assert.Equal(0, await Ledger.ExpireAsync(T0.AddMinutes(4)));
        Assert.Equal(2, await Ledger.ExpireAsync(T0.AddMinutes(5)));
        Assert.Equal(
            [new ContractBalance("gpt4o-2026q1", 20 * Unit, 0)],
            await Ledger.GetContractBalancesAsync(T0));
    }

    [Fact]
    public async Task The_sweep_forgets_an_account_idle_past_the_hour_with_nothing_pending_and_a_new_reserve_brings_it_back()
    {
        var keys = _stores.Connection.Keys;
        var db = redis.Multiplexer.GetDatabase();
        var idle = _accountId;
        var holding = (await _stores.Accounts.CreateAccountAsync("Holding")).Id;
        var recent = (await _stores.Accounts.CreateAccountAsync("Recent")).Id;
        foreach (var account in new[] { idle, holding, recent })
        {
            await Ledger.ApplyDeliveryAsync(Notice(account, 10 * Unit), T0);
        }

        // At T0: one reserve posted at once, one held for a day (a long stream's renewed deadline); at T0 + 2 h one more.
        var posted = (await Ledger.ReserveAsync(Request(idle, Unit))).Reservation!;
        await Ledger.PostAsync(posted.ReservationId, Unit);
        Assert.True((await Ledger.ReserveAsync(new ReserveRequest("res_held", holding, new Dictionary<string, long> { ["gpt4o-2026q1"] = Unit }, T0, T0.AddDays(1)))).Granted);
        var later = (await Ledger.ReserveAsync(Request(recent, Units(1), now: T0.AddHours(2)))).Reservation!;
        await Ledger.PostAsync(later.ReservationId, Unit);
        Assert.Equal(new[] { holding, idle, recent }.Order(), (await db.SortedSetRangeByRankAsync(keys.ReservingAccounts)).Select(v => (string)v!).Order());

        // Two hours on, the sweep forgets only the account idle for over an hour with nothing pending.
        Assert.Equal(0, await Ledger.ExpireAsync(T0.AddHours(2)));
        Assert.Equal(new[] { holding, recent }.Order(), (await db.SortedSetRangeByRankAsync(keys.ReservingAccounts)).Select(v => (string)v!).Order());

        // A reserve brings it back; a sweep that read the set before that reserve (the cut-off it computed then) keeps
        // it; and what the reserve leaves pending is released at its deadline.
        Assert.True((await Ledger.ReserveAsync(Request(idle, Units(2), now: T0.AddHours(3)))).Granted);
        var staleCutOff = T0.AddHours(1).ToUnixTimeMilliseconds() * 1000;
        Assert.Equal(0, (int)await _stores.Connection.EvaluateAsync(LedgerScripts.ForgetIdleAccount, keys.ReservingAccounts, [idle, staleCutOff]));
        Assert.Contains(idle, (await db.SortedSetRangeByRankAsync(keys.ReservingAccounts)).Select(v => (string)v!));
        Assert.Equal(1, await Ledger.ExpireAsync(T0.AddHours(3).AddMinutes(5)));
        Assert.Equal(10 * Unit - Unit, (await Ledger.GetLotsAsync(idle)).Single().AvailableMicro);

        // The held reservation keeps its account in the set however idle; once released at its deadline, it goes too.
        Assert.Equal(1, await Ledger.ExpireAsync(T0.AddDays(1)));
        Assert.Equal(0, await Ledger.ExpireAsync(T0.AddDays(1)));
        Assert.Empty(await db.SortedSetRangeByRankAsync(keys.ReservingAccounts));
    }

    [Fact]
    public async Task A_reserve_on_a_forgotten_account_puts_it_back_in_the_sweep_whatever_its_clock_says()
    {
        var keys = _stores.Connection.Keys;
        var db = redis.Multiplexer.GetDatabase();
        await Ledger.ApplyDeliveryAsync(Notice(_accountId, 10 * Unit), T0);
        var first = (await Ledger.ReserveAsync(Request(_accountId, Unit))).Reservation!;
        await Ledger.PostAsync(first.ReservationId, Unit);
        await Ledger.ExpireAsync(T0.AddHours(2));
        Assert.Equal(0, await db.SortedSetLengthAsync(keys.ReservingAccounts));

        // The reserve script itself, as it would run when a sweep removed the account after the reserve's entry landed:
        // it grants nothing (no hold, nothing pending) until it is called with the forget's token, i.e. by a caller that
        // has put the account back in the set since.
        RedisValue[] args = [keys.AccountSpace(_accountId), 60_000, "res_raced", Micros(T0), Micros(T0.AddMinutes(5)),
            "c:gpt4o-2026q1", 2 * Unit, string.Empty, "gpt4o-2026q1", 2 * Unit];
        var refused = RedisCodec.Strings(await _stores.Connection.EvaluateAsync(LedgerScripts.Reserve, keys.Account(_accountId), args));
        Assert.Equal("unregistered", refused[0]);
        Assert.Equal(0, await db.SortedSetLengthAsync(keys.Pending(_accountId)));
        Assert.Equal((9 * Unit, 0L), ((await Ledger.GetLotsAsync(_accountId)).Single().AvailableMicro, (await Ledger.GetLotsAsync(_accountId)).Single().PendingMicro));
        args[7] = "not the token";
        Assert.Equal("unregistered", RedisCodec.Strings(await _stores.Connection.EvaluateAsync(LedgerScripts.Reserve, keys.Account(_accountId), args))[0]);
        args[7] = refused[1];
        Assert.Equal("granted", RedisCodec.Strings(await _stores.Connection.EvaluateAsync(LedgerScripts.Reserve, keys.Account(_accountId), args))[0]);
        await _stores.Connection.EvaluateAsync(LedgerScripts.Settle, keys.Account(_accountId), [keys.AccountSpace(_accountId), 60_000, "res_raced", "void", 0, string.Empty]);

        // A replica whose clock is two hours behind reserves for a day: its entry in the set looks idle at once, yet the
        // sweep keeps the account while the reservation is pending and releases it at its deadline.
        Assert.True((await Ledger.ReserveAsync(new ReserveRequest("res_late_clock", _accountId, Units(2), T0, T0.AddDays(1)))).Granted);
        Assert.Equal(0, await Ledger.ExpireAsync(T0.AddHours(3)));
        Assert.Equal(1, await db.SortedSetLengthAsync(keys.ReservingAccounts));
        Assert.Equal(1, await Ledger.ExpireAsync(T0.AddDays(1)));
        Assert.Equal(9 * Unit, (await Ledger.GetLotsAsync(_accountId)).Single().AvailableMicro);
    }

    [Fact]
    public async Task The_sweep_takes_over_the_set_of_an_earlier_version_and_releases_what_is_due_there()
    {
        var keys = _stores.Connection.Keys;
        var db = redis.Multiplexer.GetDatabase();
        await Ledger.ApplyDeliveryAsync(Notice(_accountId, 10 * Unit), T0);
        Assert.True((await Ledger.ReserveAsync(Request(_accountId, 3 * Unit))).Granted);

        // As an earlier version left it: the account only in the set it added to on every reserve.
        await db.KeyDeleteAsync(keys.ReservingAccounts);
        await db.SetAddAsync(keys.PendingAccounts, _accountId);

        Assert.Equal(1, await Ledger.ExpireAsync(T0.AddMinutes(5)));
        Assert.Equal(10 * Unit, (await Ledger.GetLotsAsync(_accountId)).Single().AvailableMicro);
        Assert.False(await db.KeyExistsAsync(keys.PendingAccounts));

        // Adopted as if it had reserved at that sweep: kept for the hour after it, then forgotten.
        Assert.Equal([_accountId], (await db.SortedSetRangeByRankAsync(keys.ReservingAccounts)).Select(v => (string)v!));
        await Ledger.ExpireAsync(T0.AddMinutes(5).AddMinutes(59));
        Assert.Equal(1, await db.SortedSetLengthAsync(keys.ReservingAccounts));
        await Ledger.ExpireAsync(T0.AddMinutes(5).AddHours(1));
        Assert.Equal(0, await db.SortedSetLengthAsync(keys.ReservingAccounts));
    }

    private static long Micros(DateTimeOffset at) => at.ToUnixTimeMilliseconds() * 1000;

    private static Dictionary<string, long> Units(long units) => new() { ["gpt4o-2026q1"] = units * Unit };

    private static string ApiKeySecretsHash(string secret) =>
        Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(secret)));

    /// <summary>What the ledger holds for the account and the reservation, as text to compare.</summary>
    private async Task<string> SnapshotAsync(string reservationId)
    {
        var lots = string.Join(";", await Ledger.GetLotsAsync(_accountId));
        var reservation = await Ledger.GetReservationAsync(reservationId);
        var draws = reservation is null ? string.Empty : string.Join(";", reservation.Draws);
        var pending = await redis.Multiplexer.GetDatabase().SortedSetLengthAsync(_stores.Connection.Keys.Pending(_accountId));
        var overage = await Ledger.GetOverageMicroAsync(_accountId);
        var state = reservation is null ? string.Empty : (reservation with { Draws = [] }).ToString();
        return string.Create(CultureInfo.InvariantCulture, $"{lots}|{state}|{draws}|{overage}|{pending}");
    }
}
