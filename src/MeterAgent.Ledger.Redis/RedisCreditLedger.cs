using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography;
using MeterAgent.Contracts.Deliveries;
using MeterAgent.Ledger.Availability;
using MeterAgent.Ledger.Credits;
using MeterAgent.Ledger.Sqlite;
using MeterAgent.Ledger.Usage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using StackExchange.Redis;

namespace MeterAgent.Ledger.Redis;

/// <summary>
/// The credit ledger shared by every replica, in Redis. Each mutation is one Lua script (<see cref="LedgerScripts"/>)
/// on the account's slot: atomic, and idempotent by its id, so a call retried after a timeout or a failover changes
/// nothing the second time. Redemption order, overage policies, late posts and corrections are those of
/// <see cref="SqliteCreditLedger"/>; the behavioural suite runs unchanged against both.
/// </summary>
/// <remarks>
/// <para>Differences from the embedded store, all documented in docs/distributed.md: a reservation id is expected to be
/// unique across accounts (the proxy uses the record id, a UUIDv7); a resolved reservation, and the id index of any
/// reservation, are kept for <see cref="RedisConnection.ReservationRetention"/> (SQLite keeps them for ever), so a retry
/// within that time is idempotent; amounts are bounded by <see cref="RedisAmounts.MaxMicro"/>.</para>
/// <para>
/// <see cref="SettleAndCloseAsync"/> cannot be one atomic write here: the post is in Redis, the usage record in the
/// replica's local store. The settle outbox (<see cref="SqliteSettleOutbox"/>) makes them agree: the intent is durable
/// locally before the post, and the record's close removes it in the same local transaction; an intent left by a crash
/// or an outage is posted again (idempotent by reservation id) and closed by <see cref="SettleOutboxService"/>.
/// </para>
/// </remarks>
public sealed partial class RedisCreditLedger : ICreditLedger
{
    /// <summary>Most reservations one expiry script releases before it returns (keeps each script short).</summary>
    internal const int ExpireBatch = 500;

    /// <summary>Most accounts whose expiry scripts are in flight at once.</summary>
    private const int AccountBatch = 64;

    /// <summary>
    /// How long after its latest reserve (by the reserving replica's clock) an account with nothing pending stays in the
    /// sweep's set. Only a heuristic for when to try: forgetting is safe at any time (see <see cref="SweepAccountAsync"/>).
    /// </summary>
    internal static readonly TimeSpan SweepForgetAfter = TimeSpan.FromHours(1);

    /// <summary>How often a reserve adds its account back after the sweep forgot it before it gives up (never reached in practice).</summary>
    private const int MaxRegisterAttempts = 5;

    /// <summary>Intents one replay pass reads at a time.</summary>
    private const int ReplayBatch = 100;

    private readonly RedisConnection _redis;
    private readonly IUsageStore _localUsage;
    private readonly SqliteSettleOutbox? _outbox;
    private readonly IStoreAvailability _availability;
    private readonly ILogger _logger;
    private readonly FailOpenLease? _lease;

    // Reservations granted by this replica while Redis was unreachable (fail_open), not yet reconciled in Redis: their
    // estimates hold the lease until the settle-local script has applied them (docs/distributed.md, "fail_open").
    private readonly ConcurrentDictionary<string, LocalGrant> _localGrants = new(StringComparer.Ordinal);
    private readonly Lock _restoreLock = new();
    private bool _restored;

    // Settles the request path is making now: the replay leaves them alone, so one intent is never posted by both.
    private readonly ConcurrentDictionary<string, byte> _settling = new(StringComparer.Ordinal);

    // Deferred settles whose requests wait, in this process, for the replay to close their records.
    private readonly ConcurrentDictionary<string, TaskCompletionSource<UsageRecord>> _waiters = new(StringComparer.Ordinal);

    /// <summary>Without an outbox: the post and the close are two writes with a crash window between them (tests of the scripts).</summary>
    public RedisCreditLedger(RedisConnection redis, IUsageStore localUsage)
        : this(redis, localUsage, outbox: null, availability: null, logger: null)
    {
    }

    /// <param name="redis">the shared ledger</param>
    /// <param name="localUsage">the replica's local usage store</param>
    /// <param name="outbox">the settle outbox in that store: every credited settle goes through it</param>
    /// <param name="availability">whether Redis is reachable; a settle made while it is not is deferred to the outbox</param>
    /// <param name="logger">for the outbox's replay</param>
    /// <param name="lease">under <c>fail_open</c> (with an outbox), the bound on reservations granted locally while Redis is unreachable</param>
    internal RedisCreditLedger(
        RedisConnection redis, IUsageStore localUsage, SqliteSettleOutbox? outbox, IStoreAvailability? availability, ILogger? logger,
        FailOpenLease? lease = null)
    {
        ArgumentNullException.ThrowIfNull(redis);
        ArgumentNullException.ThrowIfNull(localUsage);
        _redis = redis;
        _localUsage = localUsage;
        _outbox = outbox;
        _availability = availability ?? AlwaysAvailable.Instance;
        _logger = logger ?? NullLogger.Instance;
        _lease = outbox is null ? null : lease;
    }

    /// <summary>The fail_open lease, when this ledger may grant reservations locally during an outage.</summary>
    public FailOpenLease? Lease => _lease;

    private bool FailOpen => _lease is not null && _availability.Policy == OutagePolicy.FailOpen;

    /// <summary>Settle intents held in the local outbox (posted in Redis or not); zero without an outbox.</summary>
    public long PendingSettles => _outbox?.Pending ?? 0;

    private RedisKeys Keys => _redis.Keys;

    private IDatabase Db => _redis.Database;

    private RedisValue Retention => (long)_redis.ReservationRetention.TotalMilliseconds;

    public async Task<DeliveryOutcome> ApplyDeliveryAsync(DeliveryNotice notice, DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(notice);
        ArgumentException.ThrowIfNullOrEmpty(notice.DeliveryId, nameof(notice));
        ArgumentException.ThrowIfNullOrEmpty(notice.AccountId, nameof(notice));
        ArgumentException.ThrowIfNullOrEmpty(notice.ContractId, nameof(notice));
        ArgumentException.ThrowIfNullOrEmpty(notice.PayloadSha256, nameof(notice));
        RedisAmounts.RequireInRange(notice.QuantityMicro, nameof(notice));
        if (notice.WindowEnd <= notice.WindowStart)
        {
            throw new ArgumentException($"Delivery {notice.DeliveryId}: the window ends ({notice.WindowEnd:O}) before it starts ({notice.WindowStart:O}).", nameof(notice));
        }

        cancellationToken.ThrowIfCancellationRequested();

        // A delivery id is used once across accounts (as the embedded store's primary key makes it): the first account
        // to claim it owns it. One that claims an id another account holds a lot for is that lot's conflict.
        var owner = (string?)await Db.StringSetAndGetAsync(Keys.DeliveryIndex(notice.DeliveryId), notice.AccountId, when: When.NotExists);
        if (owner is not null && owner != notice.AccountId)
        {
            var seen = (string?)await Db.HashGetAsync(Keys.Deliveries(owner), notice.DeliveryId);
            if (seen is not null)
            {
                var lotId = seen[(seen.IndexOf('|', StringComparison.Ordinal) + 1)..];
                var lots = await GetLotsAsync(owner, cancellationToken);
                return new DeliveryOutcome(DeliveryOutcomeKind.Conflict, lots.FirstOrDefault(l => l.LotId == lotId));
            }

            // The owner never applied it (its account was unknown, or it crashed before): this account takes it over.
            await Db.StringSetAsync(Keys.DeliveryIndex(notice.DeliveryId), notice.AccountId);
        }

        var newLotId = "lot_" + RandomNumberGenerator.GetHexString(16, lowercase: true);

        // The index first: a lot is never without it. If the script creates no lot, the entry is removed again (the
        // id is new and random, so no one else can be using it).
        await Db.StringSetAsync(Keys.LotIndex(newLotId), notice.AccountId);
        var reply = RedisCodec.Strings(await _redis.EvaluateAsync(
            LedgerScripts.Deliver,
            Keys.Account(notice.AccountId),
            [
                Keys.AccountSpace(notice.AccountId), Retention, notice.DeliveryId, notice.PayloadSha256, newLotId,
                notice.ContractId, notice.ContractVersion, notice.QuantityMicro, Micros(notice.WindowStart), Micros(notice.WindowEnd), Micros(now),
            ]));
        var kind = reply[0] switch
        {
            "applied" => DeliveryOutcomeKind.Applied,
            "replayed" => DeliveryOutcomeKind.Replayed,
            "conflict" => DeliveryOutcomeKind.Conflict,
            _ => DeliveryOutcomeKind.UnknownAccount,
        };
        if (kind != DeliveryOutcomeKind.Applied)
        {
            await Db.KeyDeleteAsync(Keys.LotIndex(newLotId));
        }

        if (kind == DeliveryOutcomeKind.UnknownAccount)
        {
            await Db.KeyDeleteAsync(Keys.DeliveryIndex(notice.DeliveryId));
            return new DeliveryOutcome(kind, null);
        }

        return new DeliveryOutcome(kind, RedisCodec.Lot(notice.AccountId, reply, 1));
    }

    public async Task<ReserveOutcome> ReserveAsync(ReserveRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentException.ThrowIfNullOrEmpty(request.ReservationId, nameof(request));
        ArgumentException.ThrowIfNullOrEmpty(request.AccountId, nameof(request));
        ArgumentNullException.ThrowIfNull(request.EstimateMicroByContract, nameof(request));
        var args = new List<RedisValue>(8 + (2 * request.EstimateMicroByContract.Count));
        args.AddRange([Keys.AccountSpace(request.AccountId), Retention, request.ReservationId, Micros(request.Now), Micros(request.ExpiresAt)]);

        // With no eligible lot the request is counted under the cheapest estimate: that choice reads no state, so it is
        // made here, with the same rule the embedded store uses.
        var fallback = Redemption.PlanReservation([], request.EstimateMicroByContract);
        args.Add(RedisCodec.ContractText(fallback.ContractId));
        args.Add(fallback.EstimateMicro);
        args.Add(string.Empty); // ARGV[8]: the sweep's forget token this reserve answers (ReserveInRedisAsync sets it).
        foreach (var (contractId, estimate) in request.EstimateMicroByContract)
        {
            if (estimate < 0)
            {
                throw new ArgumentException($"The estimate for contract {contractId} is negative ({estimate}).", nameof(request));
            }

            RedisAmounts.RequireInRange(estimate, nameof(request));
            args.Add(contractId);
            args.Add(estimate);
        }

        cancellationToken.ThrowIfCancellationRequested();
        if (FailOpen && !_availability.IsAvailable)
        {
            return GrantLocally(request, fallback.ContractId, fallback.EstimateMicro);
        }

        RedisUnavailable.ThrowIfDown(_availability);
        try
        {
            return await ReserveInRedisAsync(request, args);
        }
        catch (Exception ex) when (FailOpen && _availability.IsOutage(ex))
        {
            // Found unreachable by this call. Its reserve may still have been applied: the local grant has the same id,
            // so the settle-local script finds that reservation and settles it instead of creating another.
            _availability.Report(ex);
            return GrantLocally(request, fallback.ContractId, fallback.EstimateMicro);
        }
    }

    private async Task<ReserveOutcome> ReserveInRedisAsync(ReserveRequest request, List<RedisValue> args)
    {
        // One round trip: the id index, the sweep's account set and the script go out together (on a cluster, to up to
        // three primaries at once). The call returns only when all three are done, so a granted reservation always has
        // its index and is always found by the sweep; a refused one leaves an index entry that expires with the retention.
        var index = Db.StringSetAsync(Keys.ReservationIndex(request.ReservationId), request.AccountId, _redis.ReservationRetention);
        var sweep = Db.SortedSetAddAsync(Keys.ReservingAccounts, request.AccountId, Micros(request.Now), SortedSetWhen.GreaterThan);
        var script = _redis.EvaluateAsync(LedgerScripts.Reserve, Keys.Account(request.AccountId), [.. args]);
        await Task.WhenAll(index, sweep, script);

        var reply = RedisCodec.Strings(await script);
        for (var attempt = 1; reply[0] == "unregistered"; attempt++)
        {
            // The sweep forgot the account (nothing was pending, no recent reserve) and may have done so after the entry
            // sent above: add it again, then reserve answering that forget's token. A newer forget gets a new token, and
            // the reserve is told again; it grants only once an entry made after the last forget is in place.
            if (attempt > MaxRegisterAttempts)
            {
                throw new InvalidOperationException(
                    $"Reservation {request.ReservationId}: account {request.AccountId} was forgotten by the expiry sweep {MaxRegisterAttempts} times in a row while it reserved.");
            }

            await Db.SortedSetAddAsync(Keys.ReservingAccounts, request.AccountId, Micros(request.Now), SortedSetWhen.GreaterThan);
            args[7] = reply[1];
            reply = RedisCodec.Strings(await _redis.EvaluateAsync(LedgerScripts.Reserve, Keys.Account(request.AccountId), [.. args]));
        }

        return reply[0] == "granted"
            ? new ReserveOutcome(Granted: true, RedisCodec.Reservation(request.ReservationId, request.AccountId, reply, 1), RefusalReason: null)
            : new ReserveOutcome(Granted: false, Reservation: null, reply[1]);
    }

    /// <summary>
    /// fail_open, Redis unreachable: grants the request under the contract of its cheapest estimate (no lot can be read)
    /// if the account's lease on this replica has room for that estimate; otherwise refuses it as the account's credits
    /// would (<see cref="RefusalReasons.InsufficientQuota"/>). A request no contract covers is refused likewise: whether
    /// the account's policy would serve it is known only in Redis.
    /// </summary>
    private ReserveOutcome GrantLocally(ReserveRequest request, string? contractId, long estimateMicro)
    {
        RestoreLocalGrants();
        if (_localGrants.TryGetValue(request.ReservationId, out var granted))
        {
            // The same id again: the first outcome, as a reserve in Redis answers.
            return new ReserveOutcome(Granted: true, granted.ToReservation(request.ReservationId), RefusalReason: null);
        }

        if (contractId is null || !_lease!.TryTake(request.AccountId, estimateMicro))
        {
            return new ReserveOutcome(Granted: false, Reservation: null, RefusalReasons.InsufficientQuota);
        }

        var grant = new LocalGrant(request.AccountId, contractId, estimateMicro, request.Now, request.ExpiresAt);
        if (!_localGrants.TryAdd(request.ReservationId, grant))
        {
            _lease.Release(request.AccountId, estimateMicro);
            return new ReserveOutcome(Granted: true, _localGrants[request.ReservationId].ToReservation(request.ReservationId), RefusalReason: null);
        }

        LogGrantedLocally(request.ReservationId, request.AccountId, estimateMicro);
        return new ReserveOutcome(Granted: true, grant.ToReservation(request.ReservationId), RefusalReason: null);
    }

    /// <summary>
    /// Counts the local grants a previous run of this replica left in the outbox (their settles not yet applied in Redis)
    /// against the lease, once, before this run grants or replays anything.
    /// </summary>
    internal void RestoreLocalGrants()
    {
        if (_lease is null || _outbox is null)
        {
            return;
        }

        lock (_restoreLock)
        {
            if (_restored)
            {
                return;
            }

            foreach (var intent in _outbox.ReadPending(int.MaxValue))
            {
                if (LocalGrant.TryParse(intent.AccountId, intent.Draws) is { } grant && _localGrants.TryAdd(intent.ReservationId, grant))
                {
                    _lease.Restore(grant.AccountId, grant.EstimateMicro);
                }
            }

            _restored = true;
        }
    }

    public async Task<Reservation> PostAsync(string reservationId, long actualMicro, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(reservationId);
        RedisAmounts.RequireInRange(actualMicro, nameof(actualMicro));
        var accountId = await FindAccountAsync(reservationId, cancellationToken)
            ?? throw new KeyNotFoundException($"No reservation '{reservationId}'.");
        return await SettleAsync(accountId, reservationId, actualMicro, lateAt: null);
    }

    public async Task<Reservation> VoidAsync(string reservationId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(reservationId);
        var accountId = await FindAccountAsync(reservationId, cancellationToken)
            ?? throw new KeyNotFoundException($"No reservation '{reservationId}'.");
        return await SettleAsync(accountId, reservationId, actualMicro: null, lateAt: null);
    }

    /// <summary>
    /// Through the outbox: the settle intent (reservation, amount, closed record) is made durable in the replica's local
    /// store first; then the post (or void) goes to Redis; then the record's close and the intent's delete are one local
    /// transaction. A crash anywhere in between leaves the intent, which the outbox's replay posts again (the settle
    /// script is idempotent by reservation id: a second post returns the first one's state) and closes. While Redis
    /// cannot be reached the call does not wait for it: it throws <see cref="SettlementDeferredException"/> once the
    /// intent is durable, and the replay finishes the settle when Redis is back.
    /// </summary>
    public async Task<Reservation> SettleAndCloseAsync(Reservation reservation, long? actualMicro, UsageRecord record, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(reservation);
        ArgumentNullException.ThrowIfNull(record);
        if (actualMicro is { } actual)
        {
            RedisAmounts.RequireInRange(actual, nameof(actualMicro));
        }

        cancellationToken.ThrowIfCancellationRequested();
        if (_outbox is null)
        {
            // The caller's copy names the account, so no index lookup: one round trip. A late post redeems from what the
            // lots hold when the request ended.
            var direct = await SettleAsync(reservation.AccountId, reservation.ReservationId, actualMicro, record.EndedAt);
            FillRedemption(record, direct);
            await _localUsage.CloseAsync(record, cancellationToken);
            return direct;
        }

        _localGrants.TryGetValue(reservation.ReservationId, out var local);
        _settling[record.Id] = 0;
        try
        {
            var intent = new SettleIntent(
                record.Id, reservation.ReservationId, reservation.AccountId, actualMicro, record,
                local?.Text ?? DrawsText(reservation.Draws), record.EndedAt ?? DateTimeOffset.UtcNow);

            // Not cancellable once queued: an intent half-abandoned would be a post nobody finishes.
            await _outbox.HoldAsync(intent, CancellationToken.None);
            if (!_availability.IsAvailable)
            {
                throw Defer(record.Id, cause: null);
            }

            Reservation final;
            try
            {
                final = local is null
                    ? await SettleAsync(reservation.AccountId, reservation.ReservationId, actualMicro, record.EndedAt)
                    : await SettleLocalAsync(reservation.ReservationId, local, actualMicro, record.EndedAt);
            }
            catch (Exception ex) when (_availability.IsOutage(ex))
            {
                _availability.Report(ex);
                throw Defer(record.Id, ex);
            }

            FillRedemption(record, final);
            await _outbox.CloseAsync(record, appendLog: false, CancellationToken.None);
            return final;
        }
        finally
        {
            _settling.TryRemove(record.Id, out _);
        }
    }

    /// <summary>
    /// Posts every settle intent the outbox holds (oldest first) and closes its record, until the outbox is empty or
    /// Redis fails again; returns how many records it closed. Each post is idempotent by reservation id, so an intent
    /// whose post was already applied (a crash after the post, before the close) is closed with the state Redis kept.
    /// </summary>
    internal async Task<int> ReplayPendingAsync(CancellationToken cancellationToken)
    {
        if (_outbox is null)
        {
            return 0;
        }

        var closed = 0;
        while (!cancellationToken.IsCancellationRequested && _availability.IsAvailable)
        {
            var batch = _outbox.ReadPending(ReplayBatch);
            var progress = false;
            foreach (var intent in batch)
            {
                if (!_settling.TryAdd(intent.UsageId, 0))
                {
                    continue;
                }

                try
                {
                    var record = intent.Record;
                    try
                    {
                        var local = LocalGrant.TryParse(intent.AccountId, intent.Draws);
                        FillRedemption(record, local is null
                            ? await SettleAsync(intent.AccountId, intent.ReservationId, intent.ActualMicro, record.EndedAt)
                            : await SettleLocalAsync(intent.ReservationId, local, intent.ActualMicro, record.EndedAt ?? intent.CreatedAt));
                    }
                    catch (KeyNotFoundException)
                    {
                        // Redis no longer knows the reservation (its retention passed, or Redis lost data it had
                        // acknowledged): nothing can be posted. The record closes saying so, rather than stay open for ever.
                        record.Error = record.Error is null ? LostReservationError : record.Error + "; " + LostReservationError;
                        LogReservationLost(intent.UsageId, intent.ReservationId);
                    }

                    await _outbox.CloseAsync(record, appendLog: true, CancellationToken.None);
                    closed++;
                    progress = true;
                    if (_waiters.TryRemove(intent.UsageId, out var waiter))
                    {
                        waiter.TrySetResult(record);
                    }
                }
                catch (Exception ex) when (_availability.IsOutage(ex))
                {
                    _availability.Report(ex);
                    return closed;
                }
                finally
                {
                    _settling.TryRemove(intent.UsageId, out _);
                }
            }

            if (batch.Count < ReplayBatch || !progress)
            {
                break;
            }
        }

        if (closed > 0)
        {
            LogReplayed(closed);
        }

        return closed;
    }

    internal const string LostReservationError = "reservation unknown to the ledger at settle";

    private SettlementDeferredException Defer(string usageId, Exception? cause)
    {
        var waiter = _waiters.GetOrAdd(usageId, _ => new TaskCompletionSource<UsageRecord>(TaskCreationOptions.RunContinuationsAsynchronously));
        return new SettlementDeferredException($"Usage {usageId}: Redis is unreachable; the settle waits in the outbox.", waiter.Task, cause);
    }

    /// <summary>The redemption fields the embedded store's one-write settle fills, from the posted (or voided) reservation.</summary>
    private static void FillRedemption(UsageRecord record, Reservation final)
    {
        record.ContractId = final.ContractId;
        record.RedeemedMicro = final.PostedMicro;
        record.OverageMicro = final.State == ReservationState.Posted ? final.OverageMicro : 0;
        var lots = new List<string>(final.Draws.Count);
        foreach (var draw in final.Draws)
        {
            if (draw.PostedMicro > 0 || final.State != ReservationState.Posted)
            {
                lots.Add(draw.LotId);
            }
        }

        record.LotIds = lots;
    }

    private static string DrawsText(IReadOnlyList<LotDraw> draws) =>
        string.Join(';', draws.Select(d => string.Create(CultureInfo.InvariantCulture, $"{d.LotId},{d.ReservedMicro}")));

    public async Task<int> RenewAsync(IReadOnlyCollection<string> reservationIds, DateTimeOffset expiresAt, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(reservationIds);
        if (reservationIds.Count == 0)
        {
            return 0;
        }

        cancellationToken.ThrowIfCancellationRequested();
        var ids = reservationIds.ToArray();
        var accounts = await Task.WhenAll(ids.Select(id => FindAccountAsync(id, cancellationToken)));
        var renewals = new List<Task<RedisResult>>();
        foreach (var group in ids.Zip(accounts).Where(p => p.Second is not null).GroupBy(p => p.Second!, StringComparer.Ordinal))
        {
            var args = new List<RedisValue> { Keys.AccountSpace(group.Key), Retention, Micros(expiresAt) };
            args.AddRange(group.Select(p => (RedisValue)p.First));
            renewals.Add(_redis.EvaluateAsync(LedgerScripts.Renew, Keys.Account(group.Key), [.. args]));
        }

        var renewed = 0;
        foreach (var result in await Task.WhenAll(renewals))
        {
            renewed += (int)result;
        }

        return renewed;
    }

    /// <summary>
    /// Visits every account in the sweep's set (<see cref="RedisKeys.ReservingAccounts"/>) with the expiry script, a batch
    /// of accounts at a time: each account's pending reservations are a sorted set by deadline, so an account with
    /// nothing due costs one cheap script. On a cluster the scripts go to each account's own primary. An account left
    /// with nothing pending whose latest reserve is older than <see cref="SweepForgetAfter"/> leaves the set, so the
    /// sweep's cost follows the accounts that reserve, not every account that ever did.
    /// </summary>
    public async Task<int> ExpireAsync(DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        await AdoptEarlierSweepSetAsync(now);
        var accounts = await Db.SortedSetRangeByRankWithScoresAsync(Keys.ReservingAccounts);
        var forgetUpTo = Micros(now - SweepForgetAfter);
        var expired = 0;
        foreach (var batch in accounts.Chunk(AccountBatch))
        {
            cancellationToken.ThrowIfCancellationRequested();
            var counts = await Task.WhenAll(batch.Select(entry => SweepAccountAsync(entry.Element!, entry.Score, forgetUpTo, now)));
            expired += counts.Sum();
        }

        return expired;
    }

    /// <summary>
    /// Moves the accounts of an earlier version's sweep set into <see cref="RedisKeys.ReservingAccounts"/> (as if they
    /// had reserved now, so each gets the whole <see cref="SweepForgetAfter"/>), then removes just those: an account a
    /// replica on the earlier version adds meanwhile stays for the next sweep.
    /// </summary>
    private async Task AdoptEarlierSweepSetAsync(DateTimeOffset now)
    {
        var earlier = await Db.SetMembersAsync(Keys.PendingAccounts);
        if (earlier.Length == 0)
        {
            return;
        }

        await Db.SortedSetAddAsync(Keys.ReservingAccounts, [.. earlier.Select(account => new SortedSetEntry(account, Micros(now)))], SortedSetWhen.NotExists);
        await Db.SetRemoveAsync(Keys.PendingAccounts, earlier);
    }

    /// <summary>
    /// Expires the account's due reservations; then, if it is idle and nothing is pending, forgets it. The set and the
    /// account's keys are in different slots, so no one script can do both; instead:
    /// <list type="number">
    /// <item>the account leaves the set (if its latest reserve is still old: a recent reserve keeps it);</item>
    /// <item>then a script on the account marks it forgotten with a new token, only if nothing is pending there; if
    /// something is (a reserve came in between), the account goes back into the set.</item>
    /// </list>
    /// A reserve script that finds the mark grants nothing: its caller adds the account to the set again and retries
    /// with the mark's token. So a reservation is only ever pending while its account is in the set, whatever the
    /// order in which the commands of a reserve and of a sweep reach Redis, and whatever the replicas' clocks say.
    /// </summary>
    private async Task<int> SweepAccountAsync(string accountId, double latestReserve, long forgetUpTo, DateTimeOffset now)
    {
        var (released, stillPending) = await ExpireAccountAsync(accountId, now);
        if (latestReserve > forgetUpTo || stillPending > 0
            || (long)await _redis.EvaluateAsync(LedgerScripts.ForgetIdleAccount, Keys.ReservingAccounts, [accountId, forgetUpTo]) == 0)
        {
            return released;
        }

        var marked = (long)await _redis.EvaluateAsync(
            LedgerScripts.MarkForgotten, Keys.Account(accountId), [Keys.AccountSpace(accountId), Retention, Guid.NewGuid().ToString("N")]);
        if (marked == 0)
        {
            await Db.SortedSetAddAsync(Keys.ReservingAccounts, accountId, Micros(now), SortedSetWhen.GreaterThan);
        }

        return released;
    }

    public async Task<Reservation?> GetReservationAsync(string reservationId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(reservationId);
        var accountId = await FindAccountAsync(reservationId, cancellationToken);
        if (accountId is null)
        {
            return null;
        }

        RedisValue[] fields = ["s", "c", "rv", "po", "ov", "ca", "ex", "d"];
        var values = await Db.HashGetAsync(Keys.Reservation(accountId, reservationId), fields);
        if (values[0].IsNull)
        {
            return null;
        }

        return RedisCodec.Reservation(reservationId, accountId, [.. values.Select(v => v.IsNull ? string.Empty : (string)v!)], 0);
    }

    /// <summary>Every lot of the account, read at one instant, in redemption order (window end, then delivery time).</summary>
    public async Task<IReadOnlyList<CreditLot>> GetLotsAsync(string accountId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(accountId);
        cancellationToken.ThrowIfCancellationRequested();
        var reply = RedisCodec.Strings(await _redis.EvaluateAsync(LedgerScripts.ReadLots, Keys.Account(accountId), [Keys.AccountSpace(accountId), Retention]));
        var lots = new List<CreditLot>(reply.Length / RedisCodec.LotFields);
        for (var i = 0; i < reply.Length; i += RedisCodec.LotFields)
        {
            lots.Add(RedisCodec.Lot(accountId, reply, i));
        }

        lots.Sort(RedisCodec.RedemptionOrder);
        return lots;
    }

    /// <summary>
    /// The account's pending reservations in Redis, read at one instant by the <c>read-pending</c> script on the account's
    /// slot. A reservation a replica granted locally under <c>fail_open</c> during an outage is not in Redis until its
    /// settle reconciles it, so it is not listed.
    /// </summary>
    public async Task<IReadOnlyList<Reservation>> GetPendingReservationsAsync(string accountId, int limit, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(accountId);
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        cancellationToken.ThrowIfCancellationRequested();
        var reply = RedisCodec.Strings(await _redis.EvaluateAsync(
            LedgerScripts.ReadPending, Keys.Account(accountId), [Keys.AccountSpace(accountId), Retention, limit]));
        const int Fields = 9;
        var reservations = new List<Reservation>(reply.Length / Fields);
        for (var i = 0; i < reply.Length; i += Fields)
        {
            reservations.Add(RedisCodec.Reservation(reply[i], accountId, reply, i + 1));
        }

        return reservations;
    }

    /// <summary>The account's policy; <see cref="OveragePolicy.Reject"/> when none was set.</summary>
    public async Task<OveragePolicy> GetPolicyAsync(string accountId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(accountId);
        cancellationToken.ThrowIfCancellationRequested();
        var values = await Db.HashGetAsync(Keys.Policy(accountId), ["kind", "limit"]);
        return values[0].IsNull
            ? OveragePolicy.Reject
            : new OveragePolicy(OveragePolicyNames.FromName(values[0]!), RedisAmounts.Parse(values[1]));
    }

    public async Task SetPolicyAsync(string accountId, OveragePolicy policy, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(accountId);
        ArgumentNullException.ThrowIfNull(policy);
        if (!Enum.IsDefined(policy.Kind))
        {
            throw new ArgumentOutOfRangeException(nameof(policy), policy.Kind, "Unknown overage policy.");
        }

        RedisAmounts.RequireInRange(policy.LimitMicro, nameof(policy));
        cancellationToken.ThrowIfCancellationRequested();
        var reply = RedisCodec.Strings(await _redis.EvaluateAsync(
            LedgerScripts.SetPolicy,
            Keys.Account(accountId),
            [Keys.AccountSpace(accountId), Retention, OveragePolicyNames.ToName(policy.Kind), policy.LimitMicro]));
        if (reply[0] == "notfound")
        {
            throw new KeyNotFoundException($"No account '{accountId}'.");
        }
    }

    public Task<long> GetOverageMicroAsync(string accountId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(accountId);
        return ReadAmountAsync(Keys.Overage(accountId), cancellationToken);
    }

    public Task<long> GetOverageHeldMicroAsync(string accountId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(accountId);
        return ReadAmountAsync(Keys.OverageHeld(accountId), cancellationToken);
    }

    /// <summary>One of an account's amounts (µ-units), kept as a string; 0 when there is none.</summary>
    private async Task<long> ReadAmountAsync(RedisKey key, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var value = await Db.StringGetAsync(key);
        return value.IsNull ? 0 : RedisAmounts.Parse(value);
    }

    /// <summary>Reads every account's lots (a batch of accounts at a time): slower than one SQL query, and off the request path.</summary>
    public async Task<IReadOnlyList<ContractBalance>> GetContractBalancesAsync(DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        var accounts = await Db.SortedSetRangeByRankAsync(Keys.Accounts);
        var totals = new SortedDictionary<string, (long Available, long Pending)>(StringComparer.Ordinal);
        foreach (var batch in accounts.Chunk(AccountBatch))
        {
            cancellationToken.ThrowIfCancellationRequested();
            foreach (var lots in await Task.WhenAll(batch.Select(account => GetLotsAsync(account!, cancellationToken))))
            {
                foreach (var lot in lots)
                {
                    var open = lot.WindowStart <= now && lot.WindowEnd > now;
                    totals.TryGetValue(lot.ContractId, out var total);
                    totals[lot.ContractId] = (total.Available + (open ? lot.AvailableMicro : 0), total.Pending + lot.PendingMicro);
                }
            }
        }

        return [.. totals.Select(t => new ContractBalance(t.Key, t.Value.Available, t.Value.Pending))];
    }

    public async Task<CreditLot?> CorrectAsync(string lotId, long deltaMicro, string reason, DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(lotId);
        ArgumentException.ThrowIfNullOrWhiteSpace(reason);
        RedisAmounts.RequireDeltaInRange(deltaMicro, nameof(deltaMicro));
        cancellationToken.ThrowIfCancellationRequested();
        var accountId = await Db.StringGetAsync(Keys.LotIndex(lotId));
        if (accountId.IsNull)
        {
            throw new KeyNotFoundException($"No credit lot '{lotId}'.");
        }

        var reply = RedisCodec.Strings(await _redis.EvaluateAsync(
            LedgerScripts.Correct,
            Keys.Account(accountId!),
            [Keys.AccountSpace(accountId!), Retention, lotId, deltaMicro, reason, Micros(now)]));
        return reply[0] switch
        {
            "notfound" => throw new KeyNotFoundException($"No credit lot '{lotId}'."),
            "refused" => null,
            _ => RedisCodec.Lot(accountId!, reply, 1),
        };
    }

    /// <summary>The corrections of a lot as kept for audit (delta, reason, when in µs), oldest first.</summary>
    internal async Task<(long Delta, string Reason, long At)[]> GetCorrectionsAsync(string lotId)
    {
        var accountId = await Db.StringGetAsync(Keys.LotIndex(lotId));
        if (accountId.IsNull)
        {
            return [];
        }

        var entries = await Db.ListRangeAsync(Keys.Corrections(accountId!, lotId));
        return [.. entries.Select(e =>
        {
            var parts = ((string)e!).Split('|', 3);
            return (RedisAmounts.Parse(parts[0]), parts[2], RedisAmounts.Parse(parts[1]));
        })];
    }

    private static long Micros(DateTimeOffset value) => SqliteTime.ToUnixMicroseconds(value);

    /// <summary>The account a reservation id belongs to, from its index; reading it renews the index's retention.</summary>
    private async Task<string?> FindAccountAsync(string reservationId, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var accountId = await Db.StringGetSetExpiryAsync(Keys.ReservationIndex(reservationId), _redis.ReservationRetention);
        return accountId.IsNull ? null : (string)accountId!;
    }

    private async Task<Reservation> SettleAsync(string accountId, string reservationId, long? actualMicro, DateTimeOffset? lateAt)
    {
        var reply = RedisCodec.Strings(await _redis.EvaluateAsync(
            LedgerScripts.Settle,
            Keys.Account(accountId),
            [
                Keys.AccountSpace(accountId), Retention, reservationId, actualMicro is null ? "void" : "post", actualMicro ?? 0,
                lateAt is { } at ? Micros(at).ToString(CultureInfo.InvariantCulture) : string.Empty,
            ]));
        if (reply[0] == "notfound")
        {
            throw new KeyNotFoundException($"No reservation '{reservationId}'.");
        }

        return RedisCodec.Reservation(reservationId, accountId, reply, 1);
    }

    /// <summary>
    /// Applies the settle of a reservation granted locally (the settle-local script, idempotent by reservation id), then
    /// gives its estimate back to the lease: it is reconciled.
    /// </summary>
    private async Task<Reservation> SettleLocalAsync(string reservationId, LocalGrant grant, long? actualMicro, DateTimeOffset? at)
    {
        // The index first, as a reserve sends it: the reservation is then found by id (renewal, GetReservationAsync).
        await Db.StringSetAsync(Keys.ReservationIndex(reservationId), grant.AccountId, _redis.ReservationRetention);
        var reply = RedisCodec.Strings(await _redis.EvaluateAsync(
            LedgerScripts.SettleLocal,
            Keys.Account(grant.AccountId),
            [
                Keys.AccountSpace(grant.AccountId), Retention, reservationId, actualMicro is null ? "void" : "post", actualMicro ?? 0,
                Micros(at ?? grant.CreatedAt), RedisCodec.ContractText(grant.ContractId), Micros(grant.CreatedAt), Micros(grant.ExpiresAt),
            ]));
        if (_localGrants.TryRemove(reservationId, out var held))
        {
            _lease?.Release(held.AccountId, held.EstimateMicro);
        }

        return RedisCodec.Reservation(reservationId, grant.AccountId, reply, 1);
    }

    /// <summary>
    /// A reservation granted on this replica while Redis was unreachable. Kept in the outbox's <c>draws</c> column as
    /// <c>local|contract|estimate µ|created µs|expires µs</c> (contract as the scripts write it), so a replay, in this
    /// process or after a restart, knows to create it in Redis rather than post a reservation Redis never had.
    /// </summary>
    private sealed record LocalGrant(string AccountId, string? ContractId, long EstimateMicro, DateTimeOffset CreatedAt, DateTimeOffset ExpiresAt)
    {
        private const string Marker = "local|";

        public Reservation ToReservation(string reservationId) =>
            new(reservationId, AccountId, ContractId, ReservationState.Pending, EstimateMicro, 0, 0, [], CreatedAt, ExpiresAt);

        public string Text => string.Create(
            CultureInfo.InvariantCulture, $"{Marker}{RedisCodec.ContractText(ContractId)}|{EstimateMicro}|{Micros(CreatedAt)}|{Micros(ExpiresAt)}");

        public static LocalGrant? TryParse(string accountId, string draws)
        {
            if (!draws.StartsWith(Marker, StringComparison.Ordinal))
            {
                return null;
            }

            var parts = draws[Marker.Length..].Split('|');
            var contract = parts[0].StartsWith("c:", StringComparison.Ordinal) ? parts[0][2..] : null;
            return new LocalGrant(
                accountId, contract, RedisAmounts.Parse(parts[1]),
                SqliteTime.FromUnixMicroseconds(RedisAmounts.Parse(parts[2])), SqliteTime.FromUnixMicroseconds(RedisAmounts.Parse(parts[3])));
        }
    }

    /// <summary>Releases the account's reservations due at <paramref name="now"/>; returns how many, and how many stay pending.</summary>
    private async Task<(int Released, long StillPending)> ExpireAccountAsync(string accountId, DateTimeOffset now)
    {
        var released = 0;
        while (true)
        {
            var reply = (RedisResult[])(await _redis.EvaluateAsync(
                LedgerScripts.Expire,
                Keys.Account(accountId),
                [Keys.AccountSpace(accountId), Retention, Micros(now), ExpireBatch]))!;
            released += (int)reply[0];
            if ((int)reply[1] < ExpireBatch)
            {
                return (released, (long)reply[2]);
            }
        }
    }

    [LoggerMessage(EventId = 1306, Level = LogLevel.Debug,
        Message = "fail_open: reservation {ReservationId} of account {AccountId} granted locally ({EstimateMicro} µ-units of the lease) while Redis is unavailable")]
    private partial void LogGrantedLocally(string reservationId, string accountId, long estimateMicro);

    [LoggerMessage(EventId = 1303, Level = LogLevel.Information, Message = "Settle outbox: posted and closed {Count} deferred settles")]
    private partial void LogReplayed(int count);

    [LoggerMessage(EventId = 1304, Level = LogLevel.Error,
        Message = "Settle outbox: usage {UsageId}'s reservation {ReservationId} is unknown to Redis; its record closes without a redemption")]
    private partial void LogReservationLost(string usageId, string reservationId);
}
