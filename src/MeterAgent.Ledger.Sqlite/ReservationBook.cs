using MeterAgent.Ledger.Credits;
using Microsoft.Data.Sqlite;

namespace MeterAgent.Ledger.Sqlite;

/// <summary>
/// The embedded store's pending reservations, held in memory: a reserve is decided here, on its caller's thread, and
/// writes nothing; the reservation is written once, resolved (posted, voided or expired), by the write that resolves it,
/// usually the one that closes its request's record (<see cref="ResolveHeldWrite"/>). A reserve no longer waits for the
/// writer nor costs it a row, an index entry and a lot update that the settlement then undoes.
/// </summary>
/// <remarks>
/// <para>
/// What the decision needs is here, under one lock: each account's lots as the writer's transaction sees them, loaded
/// once by a write (<see cref="LoadLotsWrite"/>) and kept current by every write that resolves a held reservation
/// (<see cref="Ran"/>); any other write that changes an account's lots (a delivery, a correction, a late post, the
/// resolution of a reservation the database holds) drops them (<see cref="Invalidate"/>), to be loaded again by the
/// next reserve; so does a failed transaction (<see cref="RolledBack"/>). Beside the lots, the holds: what each held
/// reservation reserved, and for one whose resolution is queued but not yet run, what it will post (the rest is
/// available again as soon as the settlement is asked for, as when the reserve queued behind it in the writer).
/// </para>
/// <para>
/// A crash loses the book, as it lost a reservation not yet committed before: its request's record, written ahead, is
/// recovered as interrupted and never charged, and the credits are whole at the next start. A stop does the same for
/// the requests still in flight. The policy, the posted overage and the ids of reservations already resolved are read
/// from the database (committed state) on a connection of the book's own; the last only when the book does not know
/// the id and the id is not above every id the database can hold, which keeps a reserve idempotent by its id across
/// restarts without a read for a new request's (time-ordered) id.
/// </para>
/// </remarks>
internal sealed class ReservationBook : IDisposable
{
    private readonly Lock _gate = new();
    private readonly SqliteDatabase _database;

    // Guarded by _gate.
    private readonly Dictionary<string, Entry> _entries = new(StringComparer.Ordinal);
    private readonly Dictionary<string, AccountLots> _lotsByAccount = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Hold> _holds = new(StringComparer.Ordinal);
    private SqliteConnection? _reader;
    private RawStatement? _reservationExists;

    // Guarded by _gate: the greatest reservation id the database can hold, so a reserve of an id above it skips the probe
    // for a stored one (ReadStored). Every write of this process raises it before it commits (so before the book forgets
    // the entry); when first needed it also takes in the table's greatest id. The proxy's ids are UUIDv7, time-ordered:
    // a new request's id is almost always above it.
    private string? _storedMax;
    private bool _tableMaxRead;

    public ReservationBook(SqliteDatabase database) => _database = database;

    /// <summary>How a reservation in the book stands.</summary>
    internal enum EntryState
    {
        /// <summary>Granted and pending: it holds what it reserved.</summary>
        Held,

        /// <summary>Its resolution is asked for and queued: it holds only what it will post.</summary>
        Resolving,

        /// <summary>Its resolution has run in the writer's transaction: it holds nothing; forgotten once committed.</summary>
        Resolved,
    }

    /// <summary>A reservation the book holds, from its grant until the write that resolves it has committed.</summary>
    internal sealed class Entry(Reservation granted, long overageHeld, Hold[] holds)
    {
        public Reservation Granted { get; } = granted;

        /// <summary>The book's hold on the lot of each draw, in draw order.</summary>
        public Hold[] Holds { get; } = holds;

        /// <summary>The resolved reservation once <see cref="State"/> is past <see cref="EntryState.Held"/>.</summary>
        public Reservation? Resolved { get; set; }

        public EntryState State { get; set; }

        public DateTimeOffset ExpiresAt { get; set; } = granted.ExpiresAt;

        /// <summary>While held, the shortfall it was granted beyond its credits (what <c>allow_up_to</c> counts).</summary>
        public long OverageHeld { get; } = overageHeld;

        /// <summary>The reservation as a reader sees it now.</summary>
        public Reservation View => Resolved ?? (ExpiresAt == Granted.ExpiresAt ? Granted : Granted with { ExpiresAt = ExpiresAt });
    }

    /// <summary>What the book's reservations hold on one lot, with what the balances need to place it.</summary>
    internal sealed class Hold(string lotId, string contractId, long windowStart, long windowEnd)
    {
        public string LotId { get; } = lotId;

        public string ContractId { get; } = contractId;

        public long WindowStart { get; } = windowStart;

        public long WindowEnd { get; } = windowEnd;

        public long Amount { get; set; }
    }

    /// <summary>
    /// Decides a reserve against the account's lots and the holds; null when the account's lots are not loaded (the
    /// caller loads them with <see cref="LoadLotsWrite"/>, which decides it then). Idempotent by the reservation id.
    /// </summary>
    public ReserveOutcome? TryReserve(ReserveRequest request)
    {
        lock (_gate)
        {
            if (_entries.TryGetValue(request.ReservationId, out var entry))
            {
                return new ReserveOutcome(Granted: true, entry.View, RefusalReason: null);
            }

            if (!_lotsByAccount.TryGetValue(request.AccountId, out var lots))
            {
                return null;
            }

            // Only granted reservations are stored, so a stored one is the first outcome; a refusal is decided afresh.
            if (ReadStored(request.ReservationId) is { } stored)
            {
                return new ReserveOutcome(Granted: true, stored, RefusalReason: null);
            }

            var now = SqliteTime.ToUnixMicroseconds(request.Now);
            var plan = Redemption.PlanReservation(Eligible(lots, now), request.EstimateMicroByContract);
            if (plan.NeedsPolicy)
            {
                var refusal = OverageRule.Refusal(ReadPolicy(request.AccountId), plan.ShortfallMicro, () => OutstandingOverage(request.AccountId));
                if (refusal is not null)
                {
                    return new ReserveOutcome(Granted: false, Reservation: null, refusal);
                }
            }

            var draws = new LotDraw[plan.Picks.Count];
            var holds = new Hold[draws.Length];
            for (var i = 0; i < draws.Length; i++)
            {
                var (lotId, amount) = plan.Picks[i];
                draws[i] = new LotDraw(lotId, amount, PostedMicro: 0);
                if (!_holds.TryGetValue(lotId, out var hold))
                {
                    var lot = lots.Lots[lots.Positions[lotId]];
                    hold = new Hold(lotId, lot.ContractId, SqliteTime.ToUnixMicroseconds(lot.WindowStart), SqliteTime.ToUnixMicroseconds(lot.WindowEnd));
                }

                holds[i] = hold;
                AddHold(hold, amount);
            }

            // Times as the database would give them back (microseconds), so a reader sees the same before and after.
            var reservation = new Reservation(
                request.ReservationId,
                request.AccountId,
                plan.ContractId,
                ReservationState.Pending,
                ReservedMicro: plan.DrawnMicro,
                PostedMicro: 0,
                OverageMicro: 0,
                draws,
                SqliteTime.FromUnixMicroseconds(now),
                SqliteTime.FromUnixMicroseconds(SqliteTime.ToUnixMicroseconds(request.ExpiresAt)));
            _entries.Add(request.ReservationId, new Entry(reservation, Math.Max(plan.ShortfallMicro, 0), holds));
            return new ReserveOutcome(Granted: true, reservation, RefusalReason: null);
        }
    }

    /// <summary>
    /// Resolves a held reservation: a post of <paramref name="actualMicro"/>, or a void when it is null. What it will
    /// not post is available again at once, and <paramref name="submit"/> queues the write that records it
    /// (<see cref="ResolveHeldWrite"/>), under the book's lock, so any later operation on the id queues behind it. Null
    /// when the book does not hold the id pending (the database has it, or it is being resolved already): the caller
    /// then goes to the database, and its write runs after the one resolving it.
    /// </summary>
    public Task<Reservation>? Resolve<TState>(string reservationId, long? actualMicro, TState state, Func<Entry, TState, Task<Reservation>> submit)
    {
        lock (_gate)
        {
            if (!_entries.TryGetValue(reservationId, out var entry) || entry.State != EntryState.Held)
            {
                return null;
            }

            // Decided before anything moves: an inconsistency throws here with the book unchanged.
            Resolving(entry, Settlement.Resolve(entry.View, actualMicro));
            return submit(entry, state);
        }
    }

    /// <summary>
    /// Expires every held reservation whose deadline is at or before <paramref name="now"/> (oldest deadline first, as
    /// the database's sweep goes): they hold nothing from here on; <paramref name="submit"/> queues the write that
    /// records them, under the book's lock as for <see cref="Resolve{TState}"/>.
    /// </summary>
    public Task<int> Expire(DateTimeOffset now, Func<List<Entry>, Task<int>> submit)
    {
        var expired = new List<Entry>();
        lock (_gate)
        {
            foreach (var entry in _entries.Values)
            {
                if (entry.State == EntryState.Held && entry.ExpiresAt <= now)
                {
                    expired.Add(entry);
                }
            }

            expired.Sort(static (a, b) => a.ExpiresAt != b.ExpiresAt
                ? a.ExpiresAt.CompareTo(b.ExpiresAt)
                : string.CompareOrdinal(a.Granted.ReservationId, b.Granted.ReservationId));
            foreach (var entry in expired)
            {
                Resolving(entry, Settlement.Release(entry.View, ReservationState.Expired));
            }

            return submit(expired);
        }
    }

    private void Resolving(Entry entry, Reservation resolved)
    {
        for (var i = 0; i < resolved.Draws.Count; i++)
        {
            var draw = resolved.Draws[i];
            RemoveHold(entry.Holds[i], draw.ReservedMicro - draw.PostedMicro);
        }

        entry.Resolved = resolved;
        entry.State = EntryState.Resolving;
    }

    /// <summary>
    /// On the writer, at the end of the write that resolved <paramref name="entry"/> in its transaction: its posted
    /// credits are redeemed in the lots the book keeps, as in the database, and it holds nothing more.
    /// </summary>
    public void Ran(Entry entry, SqliteWriteContext context)
    {
        lock (_gate)
        {
            var resolved = entry.Resolved!;
            _lotsByAccount.TryGetValue(resolved.AccountId, out var lots);
            for (var d = 0; d < resolved.Draws.Count; d++)
            {
                var draw = resolved.Draws[d];
                if (draw.PostedMicro == 0)
                {
                    continue;
                }

                RemoveHold(entry.Holds[d], draw.PostedMicro);
                if (lots is not null && lots.Positions.TryGetValue(draw.LotId, out var i))
                {
                    var lot = lots.Lots[i];
                    lots.Lots[i] = lot with { AvailableMicro = lot.AvailableMicro - draw.PostedMicro, RedeemedMicro = lot.RedeemedMicro + draw.PostedMicro };
                }
            }

            entry.State = EntryState.Resolved;
            if (Above(resolved.ReservationId, _storedMax))
            {
                _storedMax = resolved.ReservationId;
            }
        }

        context.ResolvedEntries.Add(entry);
    }

    /// <summary>After the commit: the resolved reservations are the database's now, read from there.</summary>
    public void Committed(List<Entry> resolved)
    {
        if (resolved.Count == 0)
        {
            return;
        }

        lock (_gate)
        {
            foreach (var entry in resolved)
            {
                if (entry.State == EntryState.Resolved && _entries.TryGetValue(entry.Granted.ReservationId, out var current) && current == entry)
                {
                    _entries.Remove(entry.Granted.ReservationId);
                }
            }
        }
    }

    /// <summary>
    /// The writer's transaction failed: the lots it showed may not be what the database holds, so every account's are
    /// dropped, and the resolutions it ran are queued again (their writes are retried).
    /// </summary>
    public void RolledBack(List<Entry> resolved)
    {
        lock (_gate)
        {
            _lotsByAccount.Clear();
            foreach (var entry in resolved)
            {
                if (entry.State != EntryState.Resolved)
                {
                    continue;
                }

                for (var d = 0; d < entry.Holds.Length; d++)
                {
                    AddHold(entry.Holds[d], entry.Resolved!.Draws[d].PostedMicro);
                }

                entry.State = EntryState.Resolving;
            }
        }
    }

    /// <summary>
    /// The write resolving <paramref name="entry"/> failed for good: the reservation is let go with its hold, as its
    /// expiry would have released it. Its request's record stays open, recovered as interrupted, never charged.
    /// </summary>
    public void Failed(Entry entry)
    {
        lock (_gate)
        {
            if (entry.State != EntryState.Resolving || !_entries.TryGetValue(entry.Granted.ReservationId, out var current) || current != entry)
            {
                return;
            }

            for (var d = 0; d < entry.Holds.Length; d++)
            {
                RemoveHold(entry.Holds[d], entry.Resolved!.Draws[d].PostedMicro);
            }

            _entries.Remove(entry.Granted.ReservationId);
        }
    }

    /// <summary>On the writer: the account's lots as its transaction sees them now, in redemption order.</summary>
    public void Load(string accountId, List<CreditLot> lots)
    {
        lock (_gate)
        {
            _lotsByAccount[accountId] = new AccountLots(lots);
        }
    }

    /// <summary>
    /// On the writer: a write is about to change the account's lots otherwise than by resolving a held reservation. Called
    /// before it reads the holds it decides against (<see cref="HeldOn"/>): from then on no reserve of the account can add
    /// to them without loading the lots again, a load that queues behind this write.
    /// </summary>
    public void Invalidate(string accountId)
    {
        lock (_gate)
        {
            _lotsByAccount.Remove(accountId);
        }
    }

    /// <summary>What the book's reservations hold on the lot and the database does not show (writes on the writer subtract it).</summary>
    public long HeldOn(string lotId)
    {
        lock (_gate)
        {
            return _holds.TryGetValue(lotId, out var hold) ? hold.Amount : 0;
        }
    }

    /// <summary>Moves the deadline of the held ones among <paramref name="reservationIds"/>; the ids the book does not know are returned.</summary>
    public (int Renewed, List<string> Unknown) Renew(IReadOnlyCollection<string> reservationIds, DateTimeOffset expiresAt)
    {
        var renewed = 0;
        var unknown = new List<string>();
        var deadline = SqliteTime.FromUnixMicroseconds(SqliteTime.ToUnixMicroseconds(expiresAt));
        lock (_gate)
        {
            foreach (var id in reservationIds)
            {
                if (!_entries.TryGetValue(id, out var entry))
                {
                    unknown.Add(id);
                }
                else if (entry.State == EntryState.Held && entry.ExpiresAt < deadline)
                {
                    entry.ExpiresAt = deadline;
                    renewed++;
                }
            }
        }

        return (renewed, unknown);
    }

    /// <summary>The reservation as the book knows it, or null.</summary>
    public Reservation? Find(string reservationId)
    {
        lock (_gate)
        {
            return _entries.TryGetValue(reservationId, out var entry) ? entry.View : null;
        }
    }

    /// <summary>The account's held reservations (pending).</summary>
    public List<Reservation> Pending(string accountId)
    {
        lock (_gate)
        {
            return [.. HeldBy(accountId).Select(entry => entry.View)];
        }
    }

    /// <summary>The shortfall the account's held reservations were granted beyond their credits.</summary>
    public long OverageHeld(string accountId)
    {
        lock (_gate)
        {
            return HeldBy(accountId).Sum(entry => entry.OverageHeld);
        }
    }

    // Under _gate: the account's entries still pending.
    private IEnumerable<Entry> HeldBy(string accountId) =>
        _entries.Values.Where(entry => entry.State == EntryState.Held && string.Equals(entry.Granted.AccountId, accountId, StringComparison.Ordinal));

    /// <summary>
    /// The account's lots as the book decides on them, each with what the book holds on it moved from available to
    /// pending; null when they are not loaded.
    /// </summary>
    public List<CreditLot>? Lots(string accountId)
    {
        lock (_gate)
        {
            if (!_lotsByAccount.TryGetValue(accountId, out var lots))
            {
                return null;
            }

            var shown = new List<CreditLot>(lots.Lots.Count);
            foreach (var lot in lots.Lots)
            {
                var held = _holds.TryGetValue(lot.LotId, out var hold) ? hold.Amount : 0;
                shown.Add(held == 0 ? lot : lot with { AvailableMicro = lot.AvailableMicro - held, PendingMicro = lot.PendingMicro + held });
            }

            return shown;
        }
    }

    /// <summary>Per contract, what the book holds: in lots whose window is open at <paramref name="now"/>, and in all.</summary>
    public Dictionary<string, (long Open, long All)> HeldByContract(DateTimeOffset now)
    {
        var at = SqliteTime.ToUnixMicroseconds(now);
        var byContract = new Dictionary<string, (long Open, long All)>(StringComparer.Ordinal);
        lock (_gate)
        {
            foreach (var hold in _holds.Values)
            {
                byContract.TryGetValue(hold.ContractId, out var sum);
                var open = hold.WindowStart <= at && hold.WindowEnd > at ? hold.Amount : 0;
                byContract[hold.ContractId] = (sum.Open + open, sum.All + hold.Amount);
            }
        }

        return byContract;
    }

    // A lot's hold is in _holds while it holds anything; an entry keeps its holds, so one dropped at 0 comes back as it was.
    private void AddHold(Hold hold, long amount)
    {
        if (amount == 0)
        {
            return;
        }

        if (!_holds.TryGetValue(hold.LotId, out var current))
        {
            _holds.Add(hold.LotId, current = hold);
        }

        current.Amount += amount;
    }

    private void RemoveHold(Hold hold, long amount)
    {
        if (amount == 0)
        {
            return;
        }

        var current = _holds[hold.LotId];
        current.Amount -= amount;
        if (current.Amount == 0)
        {
            _holds.Remove(hold.LotId);
        }
    }

    /// <summary>
    /// The lots a reserve can draw on at <paramref name="now"/>, in redemption order, less what the book holds. Those
    /// whose window has ended come first and are never eligible again: they are skipped, not walked.
    /// </summary>
    private IEnumerable<EligibleLot> Eligible(AccountLots account, long now)
    {
        var lots = account.Lots;
        for (var i = account.FirstNotEnded(now); i < lots.Count; i++)
        {
            var lot = lots[i];
            if (SqliteTime.ToUnixMicroseconds(lot.WindowStart) > now)
            {
                continue;
            }

            var available = lot.AvailableMicro - (_holds.TryGetValue(lot.LotId, out var hold) ? hold.Amount : 0);
            if (available > 0)
            {
                yield return new EligibleLot(lot.LotId, lot.ContractId, available);
            }
        }
    }

    /// <summary>
    /// An account's lots in redemption order (window end, delivery, id), with where each is. An account keeps every lot
    /// it was ever delivered, so a reserve must not walk them all: the ones whose window has ended are a prefix, found by
    /// a binary search, and a lot is found by its id in a dictionary.
    /// </summary>
    private sealed class AccountLots
    {
        public AccountLots(List<CreditLot> lots)
        {
            Lots = lots;
            Positions = new Dictionary<string, int>(lots.Count, StringComparer.Ordinal);
            for (var i = 0; i < lots.Count; i++)
            {
                Positions[lots[i].LotId] = i;
            }
        }

        /// <summary>Updated in place (a lot replaced at its position), never reordered.</summary>
        public List<CreditLot> Lots { get; }

        public Dictionary<string, int> Positions { get; }

        /// <summary>The first lot whose window has not ended at <paramref name="now"/> (microseconds).</summary>
        public int FirstNotEnded(long now)
        {
            var (low, high) = (0, Lots.Count);
            while (low < high)
            {
                var middle = (low + high) >>> 1;
                if (SqliteTime.ToUnixMicroseconds(Lots[middle].WindowEnd) <= now)
                {
                    low = middle + 1;
                }
                else
                {
                    high = middle;
                }
            }

            return low;
        }
    }

    /// <summary>
    /// The posted overage (committed), what pending reservations in the database and in the book were granted beyond
    /// their credits, and what the book's resolutions will post and have not yet committed.
    /// </summary>
    private long OutstandingOverage(string accountId)
    {
        var reader = Reader();
        long outstanding;
        using (var overage = CreditLedgerSql.Create(reader, CreditLedgerSql.SelectOverage, "@account_id"))
        using (var heldInFile = CreditLedgerSql.Create(reader, CreditLedgerSql.SelectOverageHeld, "@account_id"))
        {
            outstanding = CreditLedgerSql.ReadAmount(overage, accountId) + CreditLedgerSql.ReadAmount(heldInFile, accountId);
        }

        foreach (var entry in _entries.Values)
        {
            if (string.Equals(entry.Granted.AccountId, accountId, StringComparison.Ordinal))
            {
                outstanding += entry.State == EntryState.Held ? entry.OverageHeld : entry.Resolved!.OverageMicro;
            }
        }

        return outstanding;
    }

    private OveragePolicy ReadPolicy(string accountId)
    {
        using var command = CreditLedgerSql.Create(Reader(), CreditLedgerSql.SelectPolicy, "@account_id");
        return CreditLedgerSql.ReadPolicy(command, accountId);
    }

    /// <summary>
    /// A reservation the database holds, committed; null (the usual case) when it has none. An id above every id the
    /// database can hold needs no read; any other costs one index probe.
    /// </summary>
    private Reservation? ReadStored(string reservationId)
    {
        var reader = Reader();
        if (!_tableMaxRead)
        {
            using var max = CreditLedgerSql.Create(reader, "SELECT MAX(reservation_id) FROM reservations;");
            if (max.ExecuteScalar() is string tableMax && Above(tableMax, _storedMax))
            {
                _storedMax = tableMax;
            }

            _tableMaxRead = true;
        }

        if (Above(reservationId, _storedMax))
        {
            return null;
        }

        var exists = _reservationExists ??= new RawStatement(reader, "SELECT 1 FROM reservations WHERE reservation_id = @reservation_id;");
        exists.Bind("@reservation_id", reservationId);
        bool found;
        try
        {
            found = exists.Step();
        }
        finally
        {
            exists.Reset();
        }

        return found ? CreditLedgerSql.ReadReservation(reader, reservationId) : null;
    }

    private static bool Above(string id, string? max) => max is null || string.CompareOrdinal(id, max) > 0;

    private SqliteConnection Reader() => _reader ??= _database.OpenConnection();

    public void Dispose()
    {
        lock (_gate)
        {
            _reservationExists?.Dispose();
            _reservationExists = null;
            _reader?.Dispose();
            _reader = null;
        }
    }
}
