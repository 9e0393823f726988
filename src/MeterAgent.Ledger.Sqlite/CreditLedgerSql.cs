using System.Diagnostics;
using MeterAgent.Ledger.Credits;
using Microsoft.Data.Sqlite;

namespace MeterAgent.Ledger.Sqlite;

/// <summary>
/// The credit ledger's statements and row mappings, shared by the writer's operations (prepared once on the write
/// connection) and the readers (on their own connections). Every value is a parameter, bound by position.
/// </summary>
internal static class CreditLedgerSql
{
    private const string LotColumns =
        "lot_id, account_id, contract_id, contract_version, delivery_id, delivered, available, pending, redeemed, "
        + "window_start, window_end, delivered_at";

    private const string ReservationColumns =
        "reservation_id, account_id, contract_id, state, reserved, posted, overage, created_at, expires_at";

    /// <summary>Redemption order: earliest window end, then oldest delivery, then lot id so ties are stable.</summary>
    private const string RedemptionOrder = "ORDER BY window_end, delivered_at, lot_id";

    public const string SelectLot = $"SELECT {LotColumns} FROM credit_lots WHERE lot_id = @lot_id;";

    public const string SelectLotsByAccount = $"SELECT {LotColumns} FROM credit_lots WHERE account_id = @account_id {RedemptionOrder};";

    /// <summary>Open lots with something left, in redemption order; the caller keeps only eligible contracts.</summary>
    public const string SelectEligibleLots = $"""
        SELECT lot_id, contract_id, available FROM credit_lots
        WHERE account_id = @account_id AND available > 0 AND window_start <= @now AND window_end > @now
        {RedemptionOrder};
        """;

    public const string InsertLot = $"""
        INSERT INTO credit_lots ({LotColumns})
        VALUES (@lot_id, @account_id, @contract_id, @contract_version, @delivery_id, @delivered, @delivered, 0, 0,
                @window_start, @window_end, @delivered_at);
        """;

    public const string SelectDelivery = "SELECT payload_sha256, lot_id FROM deliveries WHERE delivery_id = @delivery_id;";

    public const string InsertDelivery = """
        INSERT INTO deliveries (delivery_id, payload_sha256, lot_id, applied_at)
        VALUES (@delivery_id, @payload_sha256, @lot_id, @applied_at);
        """;

    public const string AccountExists = "SELECT 1 FROM accounts WHERE account_id = @account_id;";

    public const string SelectReservation = $"SELECT {ReservationColumns} FROM reservations WHERE reservation_id = @reservation_id;";

    /// <summary>
    /// The account's pending reservations, oldest first. Pending rows are the few requests in flight: the expiry
    /// sweep's partial index of pending reservations finds them without reading the resolved ones (every request ever
    /// made), and the few found are sorted; no index of its own, so a reserve writes nothing more.
    /// </summary>
    public const string SelectPendingByAccount = $"""
        SELECT reservation_id FROM reservations
        WHERE state = '{ReservationStateNames.Pending}' AND account_id = @account_id
        ORDER BY created_at, reservation_id LIMIT @limit;
        """;

    public const string SelectDraws = "SELECT lot_id, reserved, posted FROM reservation_draws WHERE reservation_id = @reservation_id ORDER BY seq;";

    /// <summary>A reservation held in memory until it ended, written once, resolved (see <see cref="ReservationBook"/>).</summary>
    public const string InsertResolvedReservation = $"""
        INSERT INTO reservations ({ReservationColumns}, overage_held)
        VALUES (@reservation_id, @account_id, @contract_id, @state, @reserved, @posted, @overage, @created_at, @expires_at, 0);
        """;

    /// <summary>
    /// The overage the account's pending reservations were granted on top of their credits: the requests in flight
    /// that <c>allow_up_to</c> must count beside the posted overage. Read through the pending reservations' partial
    /// index, like <see cref="SelectPendingByAccount"/>.
    /// </summary>
    public const string SelectOverageHeld = $"""
        SELECT COALESCE(SUM(overage_held), 0) FROM reservations
        WHERE state = '{ReservationStateNames.Pending}' AND account_id = @account_id;
        """;

    public const string InsertResolvedDraw = """
        INSERT INTO reservation_draws (reservation_id, seq, lot_id, reserved, posted)
        VALUES (@reservation_id, @seq, @lot_id, @reserved, @posted);
        """;

    /// <summary>Settles one draw: its reservation leaves pending, the posted part is redeemed, the rest is available again.</summary>
    public const string SettleDraw = """
        UPDATE credit_lots
        SET pending = pending - @reserved, redeemed = redeemed + @posted, available = available + @reserved - @posted
        WHERE lot_id = @lot_id AND pending >= @reserved;
        """;

    public const string SetDrawPosted = "UPDATE reservation_draws SET posted = @posted WHERE reservation_id = @reservation_id AND seq = @seq;";

    /// <summary>Guarded on pending, so a reservation is resolved once whatever the caller believes.</summary>
    public const string ResolveReservation = $"""
        UPDATE reservations SET state = @state, posted = @posted, overage = @overage
        WHERE reservation_id = @reservation_id AND state = '{ReservationStateNames.Pending}';
        """;

    /// <summary>Keeps an in-flight request's reservation alive; a reservation no longer pending is left as it is.</summary>
    public const string RenewReservation = $"""
        UPDATE reservations SET expires_at = @expires_at
        WHERE reservation_id = @reservation_id AND state = '{ReservationStateNames.Pending}' AND expires_at < @expires_at;
        """;

    /// <summary>Redeems straight from a lot (no pending step): a late settlement of an expired reservation.</summary>
    public const string RedeemFromLot = """
        UPDATE credit_lots SET available = available - @amount, redeemed = redeemed + @amount
        WHERE lot_id = @lot_id AND available >= @amount;
        """;

    public const string InsertPostedDraw = """
        INSERT INTO reservation_draws (reservation_id, seq, lot_id, reserved, posted)
        VALUES (@reservation_id, @seq, @lot_id, @amount, @amount);
        """;

    /// <summary>
    /// Guarded on expired: a request that outlived its reservation still pays for what it was served, once. Its late
    /// draws join the reservation (reserved and posted alike), so reserved is still the sum of its draws.
    /// </summary>
    public const string PostExpiredReservation = $"""
        UPDATE reservations SET state = '{ReservationStateNames.Posted}', reserved = reserved + @posted, posted = @posted, overage = @overage
        WHERE reservation_id = @reservation_id AND state = '{ReservationStateNames.Expired}';
        """;

    public const string SelectExpired = $"""
        SELECT reservation_id FROM reservations
        WHERE state = '{ReservationStateNames.Pending}' AND expires_at <= @now ORDER BY expires_at, reservation_id;
        """;

    public const string SelectPolicy = "SELECT kind, limit_micro FROM account_policies WHERE account_id = @account_id;";

    public const string UpsertPolicy = """
        INSERT INTO account_policies (account_id, kind, limit_micro) VALUES (@account_id, @kind, @limit_micro)
        ON CONFLICT (account_id) DO UPDATE SET kind = excluded.kind, limit_micro = excluded.limit_micro;
        """;

    public const string SelectOverage = "SELECT overage FROM account_overage WHERE account_id = @account_id;";

    /// <summary>Per contract: available in lots whose window is open at @now, and pending in every lot.</summary>
    public const string SelectContractBalances = """
        SELECT contract_id,
               SUM(CASE WHEN window_start <= @now AND window_end > @now THEN available ELSE 0 END),
               SUM(pending)
        FROM credit_lots GROUP BY contract_id ORDER BY contract_id;
        """;

    public const string AddOverage = """
        INSERT INTO account_overage (account_id, overage) VALUES (@account_id, @overage)
        ON CONFLICT (account_id) DO UPDATE SET overage = overage + excluded.overage;
        """;

    /// <summary>Guarded: refused (0 rows) when the lot would hold less than the reservations held in memory draw on it.</summary>
    public const string CorrectLot = """
        UPDATE credit_lots SET delivered = delivered + @delta, available = available + @delta
        WHERE lot_id = @lot_id AND available + @delta >= @held;
        """;

    public const string InsertCorrection = "INSERT INTO lot_corrections (lot_id, delta, reason, at) VALUES (@lot_id, @delta, @reason, @at);";

    /// <summary>A command on a reader's own connection, with parameters in the order given.</summary>
    public static SqliteCommand Create(SqliteConnection connection, string sql, params ReadOnlySpan<string> parameterNames)
    {
        var command = connection.CreateCommand();
        command.CommandText = sql;
        foreach (var name in parameterNames)
        {
            command.Parameters.Add(new SqliteParameter { ParameterName = name });
        }

        return command;
    }

    /// <summary>Reads a lot selected with <see cref="SelectLot"/> or <see cref="SelectLotsByAccount"/>.</summary>
    public static CreditLot ReadLot(SqliteDataReader r)
    {
        var lot = new CreditLot(
            LotId: r.GetString(0),
            AccountId: r.GetString(1),
            ContractId: r.GetString(2),
            ContractVersion: r.GetInt32(3),
            DeliveryId: r.GetString(4),
            DeliveredMicro: r.GetInt64(5),
            AvailableMicro: r.GetInt64(6),
            PendingMicro: r.GetInt64(7),
            RedeemedMicro: r.GetInt64(8),
            WindowStart: SqliteTime.FromUnixMicroseconds(r.GetInt64(9)),
            WindowEnd: SqliteTime.FromUnixMicroseconds(r.GetInt64(10)),
            DeliveredAt: SqliteTime.FromUnixMicroseconds(r.GetInt64(11)));

        // The table's CHECK constraints refuse an unbalanced lot on every write; this catches a schema that lost them.
        Debug.Assert(lot.IsBalanced, $"Lot {lot.LotId} does not balance: {lot}");
        return lot;
    }

    /// <summary>One lot by id through a command for <see cref="SelectLot"/>; null when there is none.</summary>
    public static CreditLot? ReadLot(SqliteCommand selectLot, string lotId)
    {
        selectLot.Parameters[0].Value = lotId;
        using var reader = selectLot.ExecuteReader();
        return reader.Read() ? ReadLot(reader) : null;
    }

    /// <summary>A reservation with its draws on a reader's connection, both from one read transaction (one snapshot).</summary>
    public static Reservation? ReadReservation(SqliteConnection connection, string reservationId)
    {
        using var selectReservation = Create(connection, SelectReservation, "@reservation_id");
        using var selectDraws = Create(connection, SelectDraws, "@reservation_id");
        using var transaction = connection.BeginTransaction(deferred: true);
        selectReservation.Transaction = transaction;
        selectDraws.Transaction = transaction;
        return ReadReservation(selectReservation, selectDraws, reservationId);
    }

    /// <summary>A reservation with its draws, through commands for <see cref="SelectReservation"/> and <see cref="SelectDraws"/>.</summary>
    public static Reservation? ReadReservation(SqliteCommand selectReservation, SqliteCommand selectDraws, string reservationId)
    {
        selectReservation.Parameters[0].Value = reservationId;
        selectDraws.Parameters[0].Value = reservationId;

        ReservationRow row;
        using (var r = selectReservation.ExecuteReader())
        {
            if (!r.Read())
            {
                return null;
            }

            row = new ReservationRow(r.GetString(1), r.IsDBNull(2) ? null : r.GetString(2), r.GetString(3),
                r.GetInt64(4), r.GetInt64(5), r.GetInt64(6), r.GetInt64(7), r.GetInt64(8));
        }

        var draws = new List<LotDraw>();
        using (var r = selectDraws.ExecuteReader())
        {
            while (r.Read())
            {
                draws.Add(new LotDraw(r.GetString(0), r.GetInt64(1), r.GetInt64(2)));
            }
        }

        return row.ToReservation(reservationId, draws);
    }

    /// <summary>
    /// One row of <see cref="SelectReservation"/> as stored (columns 1-8 of <see cref="ReservationColumns"/>), whichever
    /// API read it: Microsoft.Data.Sqlite on a read connection, or the writer's raw statement.
    /// </summary>
    internal readonly record struct ReservationRow(
        string AccountId, string? ContractId, string State, long Reserved, long Posted, long Overage, long CreatedAt, long ExpiresAt)
    {
        public Reservation ToReservation(string reservationId, IReadOnlyList<LotDraw> draws) => new(
            reservationId,
            AccountId,
            ContractId,
            ReservationStateNames.FromName(State),
            Reserved,
            Posted,
            Overage,
            draws,
            SqliteTime.FromUnixMicroseconds(CreatedAt),
            SqliteTime.FromUnixMicroseconds(ExpiresAt));
    }

    /// <summary>The account's policy through a command for <see cref="SelectPolicy"/>; Reject when none was set.</summary>
    public static OveragePolicy ReadPolicy(SqliteCommand selectPolicy, string accountId)
    {
        selectPolicy.Parameters[0].Value = accountId;
        using var r = selectPolicy.ExecuteReader();
        return r.Read() ? new OveragePolicy(OveragePolicyNames.FromName(r.GetString(0)), r.GetInt64(1)) : OveragePolicy.Reject;
    }

    /// <summary>
    /// One amount of the account's through a command for <see cref="SelectOverage"/> or <see cref="SelectOverageHeld"/>;
    /// 0 when there is none.
    /// </summary>
    public static long ReadAmount(SqliteCommand select, string accountId)
    {
        select.Parameters[0].Value = accountId;
        return select.ExecuteScalar() is long amount ? amount : 0;
    }
}
