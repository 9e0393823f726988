using MeterAgent.Contracts.Deliveries;
using MeterAgent.Ledger.Credits;
using MeterAgent.Ledger.Usage;

namespace MeterAgent.Ledger.Sqlite;

/// <summary>
/// The credit ledger in the embedded store. A reserve is decided in memory, in the writer's <see cref="ReservationBook"/>,
/// and written once, resolved, usually with its request's record. Every other mutation is an operation on the shared
/// <see cref="SqliteWriter"/>: its read-modify-write runs serialised with every other write, atomic under its own
/// savepoint, and group-committed with the usage records. Reads use their own connections and see what has been
/// committed, with the book's pending reservations in it (for an account's lots: as the book decides on them).
/// </summary>
/// <remarks>
/// Choices the interface leaves open: a reservation that finds no eligible lot is counted under the contract with the
/// cheapest estimate (null when no contract covers the request) and always goes to the account's policy, even with a
/// zero estimate; a delivery conflict returns the lot the first payload created; <see cref="PostAsync"/>,
/// <see cref="VoidAsync"/> and <see cref="CorrectAsync"/> throw <see cref="KeyNotFoundException"/> for an unknown id,
/// and <see cref="SetPolicyAsync"/> for an unknown account.
/// </remarks>
public sealed class SqliteCreditLedger : ICreditLedger
{
    private readonly SqliteWriter _writer;
    private readonly SqliteDatabase _database;
    private readonly ReservationBook _book;

    public SqliteCreditLedger(SqliteWriter writer, SqliteDatabase database)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(database);
        _writer = writer;
        _database = database;
        _book = writer.Book;
    }

    public Task<DeliveryOutcome> ApplyDeliveryAsync(DeliveryNotice notice, DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(notice);
        ArgumentException.ThrowIfNullOrEmpty(notice.DeliveryId, nameof(notice));
        ArgumentException.ThrowIfNullOrEmpty(notice.AccountId, nameof(notice));
        ArgumentException.ThrowIfNullOrEmpty(notice.ContractId, nameof(notice));
        ArgumentException.ThrowIfNullOrEmpty(notice.PayloadSha256, nameof(notice));
        ArgumentOutOfRangeException.ThrowIfNegative(notice.QuantityMicro, nameof(notice));
        if (notice.WindowEnd <= notice.WindowStart)
        {
            throw new ArgumentException($"Delivery {notice.DeliveryId}: the window ends ({notice.WindowEnd:O}) before it starts ({notice.WindowStart:O}).", nameof(notice));
        }

        return _writer.SubmitAsync(new ApplyDeliveryWrite(notice, now), cancellationToken);
    }

    public Task<ReserveOutcome> ReserveAsync(ReserveRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentException.ThrowIfNullOrEmpty(request.ReservationId, nameof(request));
        ArgumentException.ThrowIfNullOrEmpty(request.AccountId, nameof(request));
        ArgumentNullException.ThrowIfNull(request.EstimateMicroByContract, nameof(request));
        foreach (var (contractId, estimate) in request.EstimateMicroByContract)
        {
            if (estimate < 0)
            {
                throw new ArgumentException($"The estimate for contract {contractId} is negative ({estimate}).", nameof(request));
            }
        }

        // The account's lots are in the book once a reserve has loaded them; only the first reserve after a change to
        // them (a delivery, a correction) waits for the writer.
        return _book.TryReserve(request) is { } outcome
            ? Task.FromResult(outcome)
            : _writer.SubmitAsync(new LoadLotsWrite(_book, request.AccountId, request), cancellationToken)!;
    }

    public Task<Reservation> PostAsync(string reservationId, long actualMicro, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(reservationId);
        ArgumentOutOfRangeException.ThrowIfNegative(actualMicro);
        return Resolve(reservationId, actualMicro, record: null, cancellationToken)
            ?? _writer.SubmitAsync(new PostWrite(reservationId, actualMicro), cancellationToken);
    }

    public Task<Reservation> VoidAsync(string reservationId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(reservationId);
        return Resolve(reservationId, actualMicro: null, record: null, cancellationToken)
            ?? _writer.SubmitAsync(new VoidWrite(reservationId), cancellationToken);
    }

    /// <summary>A held reservation resolved and queued to be written; null when the book does not hold it pending.</summary>
    private Task<Reservation>? Resolve(string reservationId, long? actualMicro, UsageRecord? record, CancellationToken cancellationToken) =>
        _book.Resolve(
            reservationId,
            actualMicro,
            (Ledger: this, Record: record, Cancellation: cancellationToken),
            static (entry, state) => state.Ledger._writer.SubmitAsync(new ResolveHeldWrite(state.Ledger._book, entry, state.Record), state.Cancellation));

    public Task<Reservation> SettleAndCloseAsync(Reservation reservation, long? actualMicro, UsageRecord record, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(reservation);
        ArgumentNullException.ThrowIfNull(record);
        if (actualMicro is { } actual)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(actual);
        }

        return Resolve(reservation.ReservationId, actualMicro, record, cancellationToken)
            ?? _writer.SubmitAsync(new SettleAndCloseWrite(reservation, actualMicro, record), cancellationToken);
    }

    public Task<int> RenewAsync(IReadOnlyCollection<string> reservationIds, DateTimeOffset expiresAt, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(reservationIds);
        var (renewed, unknown) = _book.Renew(reservationIds, expiresAt);
        return unknown.Count == 0 ? Task.FromResult(renewed) : RenewStoredAsync(renewed, unknown, expiresAt, cancellationToken);
    }

    // The ids the book does not hold: pending in the database (left by an earlier version), resolved, or unknown.
    private async Task<int> RenewStoredAsync(int renewed, List<string> stored, DateTimeOffset expiresAt, CancellationToken cancellationToken) =>
        renewed + await _writer.SubmitAsync(new RenewWrite(stored, expiresAt), cancellationToken);

    public Task<int> ExpireAsync(DateTimeOffset now, CancellationToken cancellationToken = default) =>
        _book.Expire(now, held => _writer.SubmitAsync(new ExpireWrite(_book, held, now), cancellationToken));

    public Task<Reservation?> GetReservationAsync(string reservationId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(reservationId);
        cancellationToken.ThrowIfCancellationRequested();
        if (_book.Find(reservationId) is { } held)
        {
            return Task.FromResult<Reservation?>(held);
        }

        using var connection = _database.OpenConnection();
        return Task.FromResult(CreditLedgerSql.ReadReservation(connection, reservationId));
    }

    /// <summary>
    /// Every lot of the account, in redemption order (window end, then delivery time), as the reserves decide on them:
    /// the book's holds pending. Loaded through the writer when the book does not have them, so the holds and the lots
    /// they are on are always read together.
    /// </summary>
    public async Task<IReadOnlyList<CreditLot>> GetLotsAsync(string accountId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(accountId);
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (_book.Lots(accountId) is { } lots)
            {
                return lots;
            }

            await _writer.SubmitAsync(new LoadLotsWrite(_book, accountId, request: null), cancellationToken);
        }
    }

    public Task<IReadOnlyList<Reservation>> GetPendingReservationsAsync(string accountId, int limit, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(accountId);
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        cancellationToken.ThrowIfCancellationRequested();

        using var connection = _database.OpenConnection();
        using var selectPending = CreditLedgerSql.Create(connection, CreditLedgerSql.SelectPendingByAccount, "@account_id", "@limit");
        using var selectReservation = CreditLedgerSql.Create(connection, CreditLedgerSql.SelectReservation, "@reservation_id");
        using var selectDraws = CreditLedgerSql.Create(connection, CreditLedgerSql.SelectDraws, "@reservation_id");

        // One read transaction: the list and each reservation with its draws come from the same snapshot.
        using var transaction = connection.BeginTransaction(deferred: true);
        selectPending.Transaction = transaction;
        selectReservation.Transaction = transaction;
        selectDraws.Transaction = transaction;
        selectPending.Parameters[0].Value = accountId;
        selectPending.Parameters[1].Value = limit;
        var ids = new List<string>();
        using (var reader = selectPending.ExecuteReader())
        {
            while (reader.Read())
            {
                ids.Add(reader.GetString(0));
            }
        }

        // The database's pending ones (left by an earlier version) and the book's, merged in the same order.
        var reservations = _book.Pending(accountId);
        foreach (var id in ids)
        {
            reservations.Add(CreditLedgerSql.ReadReservation(selectReservation, selectDraws, id)!);
        }

        reservations.Sort(static (a, b) => a.CreatedAt != b.CreatedAt
            ? a.CreatedAt.CompareTo(b.CreatedAt)
            : string.CompareOrdinal(a.ReservationId, b.ReservationId));
        if (reservations.Count > limit)
        {
            reservations.RemoveRange(limit, reservations.Count - limit);
        }

        return Task.FromResult<IReadOnlyList<Reservation>>(reservations);
    }

    /// <summary>The account's policy; <see cref="OveragePolicy.Reject"/> when none was set.</summary>
    public Task<OveragePolicy> GetPolicyAsync(string accountId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(accountId);
        cancellationToken.ThrowIfCancellationRequested();

        using var connection = _database.OpenConnection();
        using var command = CreditLedgerSql.Create(connection, CreditLedgerSql.SelectPolicy, "@account_id");
        return Task.FromResult(CreditLedgerSql.ReadPolicy(command, accountId));
    }

    public Task SetPolicyAsync(string accountId, OveragePolicy policy, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(accountId);
        ArgumentNullException.ThrowIfNull(policy);
        if (!Enum.IsDefined(policy.Kind))
        {
            throw new ArgumentOutOfRangeException(nameof(policy), policy.Kind, "Unknown overage policy.");
        }

        ArgumentOutOfRangeException.ThrowIfNegative(policy.LimitMicro, nameof(policy));
        return _writer.SubmitAsync(new SetPolicyWrite(accountId, policy), cancellationToken);
    }

    public Task<long> GetOverageMicroAsync(string accountId, CancellationToken cancellationToken = default) =>
        ReadAmountAsync(CreditLedgerSql.SelectOverage, accountId, cancellationToken);

    public async Task<long> GetOverageHeldMicroAsync(string accountId, CancellationToken cancellationToken = default) =>
        await ReadAmountAsync(CreditLedgerSql.SelectOverageHeld, accountId, cancellationToken) + _book.OverageHeld(accountId);

    /// <summary>One of the account's amounts, by a query that takes <c>@account_id</c>; 0 when there is none.</summary>
    private Task<long> ReadAmountAsync(string sql, string accountId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(accountId);
        cancellationToken.ThrowIfCancellationRequested();

        using var connection = _database.OpenConnection();
        using var command = CreditLedgerSql.Create(connection, sql, "@account_id");
        return Task.FromResult(CreditLedgerSql.ReadAmount(command, accountId));
    }

    public Task<IReadOnlyList<ContractBalance>> GetContractBalancesAsync(DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();

        using var connection = _database.OpenConnection();
        using var command = CreditLedgerSql.Create(connection, CreditLedgerSql.SelectContractBalances, "@now");
        command.Parameters[0].Value = SqliteTime.ToUnixMicroseconds(now);
        using var reader = command.ExecuteReader();
        // The book's holds are not in the lots' rows: move them from available (when the lot is open) to pending.
        var held = _book.HeldByContract(now);
        var balances = new List<ContractBalance>();
        while (reader.Read())
        {
            held.TryGetValue(reader.GetString(0), out var hold);
            balances.Add(new ContractBalance(reader.GetString(0), reader.GetInt64(1) - hold.Open, reader.GetInt64(2) + hold.All));
        }

        return Task.FromResult<IReadOnlyList<ContractBalance>>(balances);
    }

    public Task<CreditLot?> CorrectAsync(string lotId, long deltaMicro, string reason, DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(lotId);
        ArgumentException.ThrowIfNullOrWhiteSpace(reason);
        return _writer.SubmitAsync(new CorrectLotWrite(lotId, deltaMicro, reason, now), cancellationToken);
    }
}
