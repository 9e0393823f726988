using Microsoft.Data.Sqlite;

namespace MeterAgent.Ledger.Sqlite;

/// <summary>
/// Forward-only migrations, tracked in <c>PRAGMA user_version</c>. Each step runs in its own transaction with the
/// version bump, so a crash mid-migration leaves the previous version intact. Append new steps; never edit a shipped
/// one.
/// </summary>
internal static class SqliteSchema
{
    private static readonly string[] Migrations =
    [
        // 1: accounts, hashed keys, usage records.
        """
        CREATE TABLE accounts (
            account_id TEXT NOT NULL PRIMARY KEY,
            name       TEXT NOT NULL,
            created_at INTEGER NOT NULL
        ) STRICT;

        CREATE TABLE api_keys (
            key_id     TEXT NOT NULL PRIMARY KEY,
            account_id TEXT NOT NULL REFERENCES accounts (account_id),
            key_hash   TEXT NOT NULL UNIQUE,
            prefix     TEXT NOT NULL,
            created_at INTEGER NOT NULL,
            revoked_at INTEGER
        ) STRICT;

        CREATE INDEX ix_api_keys_account ON api_keys (account_id);

        CREATE TABLE usage_records (
            id                         TEXT NOT NULL PRIMARY KEY,
            account_id                 TEXT NOT NULL,
            key_id                     TEXT NOT NULL,
            surface                    TEXT NOT NULL,
            route_id                   TEXT,
            cluster_id                 TEXT,
            requested_model            TEXT,
            served_model               TEXT,
            stream                     INTEGER NOT NULL,
            started_at                 INTEGER NOT NULL,
            first_token_at             INTEGER,
            ended_at                   INTEGER,
            status                     TEXT NOT NULL,
            http_status                INTEGER,
            error                      TEXT,
            native_reported            INTEGER NOT NULL,
            native_input_tokens        INTEGER,
            native_cached_input_tokens INTEGER,
            native_cache_write_tokens  INTEGER,
            native_output_tokens       INTEGER,
            native_reasoning_tokens    INTEGER,
            reference_input_tokens     INTEGER NOT NULL,
            reference_output_tokens    INTEGER NOT NULL,
            quality                    TEXT NOT NULL,
            non_text_input             INTEGER NOT NULL,
            reference_tokenizer        TEXT
        ) STRICT;

        CREATE INDEX ix_usage_records_account_started ON usage_records (account_id, started_at);

        -- Partial: recovery scans only the few records left open, whatever the table's size.
        CREATE INDEX ix_usage_records_open ON usage_records (status) WHERE status = 'open';
        """,

        // 2: credit lots, deliveries applied exactly once, two-phase reservations, overage policies; usage records
        // learn what they were redeemed under. Amounts are INTEGER micro-units, times unix microseconds.
        """
        CREATE TABLE credit_lots (
            lot_id           TEXT NOT NULL PRIMARY KEY,
            account_id       TEXT NOT NULL REFERENCES accounts (account_id),
            contract_id      TEXT NOT NULL,
            contract_version INTEGER NOT NULL,
            delivery_id      TEXT NOT NULL UNIQUE,
            delivered        INTEGER NOT NULL,
            available        INTEGER NOT NULL CHECK (available >= 0),
            pending          INTEGER NOT NULL CHECK (pending >= 0),
            redeemed         INTEGER NOT NULL CHECK (redeemed >= 0),
            window_start     INTEGER NOT NULL,
            window_end       INTEGER NOT NULL,
            delivered_at     INTEGER NOT NULL,
            CHECK (available + pending + redeemed = delivered)
        ) STRICT;

        -- Redemption order within an account: earliest window end, then oldest delivery.
        CREATE INDEX ix_credit_lots_redemption ON credit_lots (account_id, window_end, delivered_at, lot_id);

        CREATE TABLE deliveries (
            delivery_id    TEXT NOT NULL PRIMARY KEY,
            payload_sha256 TEXT NOT NULL,
            lot_id         TEXT NOT NULL REFERENCES credit_lots (lot_id),
            applied_at     INTEGER NOT NULL
        ) STRICT;

        CREATE TABLE reservations (
            reservation_id TEXT NOT NULL PRIMARY KEY,
            account_id     TEXT NOT NULL REFERENCES accounts (account_id),
            contract_id    TEXT,
            state          TEXT NOT NULL,
            reserved       INTEGER NOT NULL,
            posted         INTEGER NOT NULL,
            overage        INTEGER NOT NULL,
            created_at     INTEGER NOT NULL,
            expires_at     INTEGER NOT NULL
        ) STRICT;

        -- The expiry sweep scans pending reservations by deadline.
        CREATE INDEX ix_reservations_state_expires ON reservations (state, expires_at);

        CREATE TABLE reservation_draws (
            reservation_id TEXT NOT NULL REFERENCES reservations (reservation_id),
            seq            INTEGER NOT NULL,
            lot_id         TEXT NOT NULL REFERENCES credit_lots (lot_id),
            reserved       INTEGER NOT NULL,
            posted         INTEGER NOT NULL,
            PRIMARY KEY (reservation_id, seq)
        ) STRICT, WITHOUT ROWID;

        -- "limit" is an SQL keyword; a suffixed name spares quoting it in every statement.
        CREATE TABLE account_policies (
            account_id  TEXT NOT NULL PRIMARY KEY REFERENCES accounts (account_id),
            kind        TEXT NOT NULL,
            limit_micro INTEGER NOT NULL
        ) STRICT;

        CREATE TABLE account_overage (
            account_id TEXT NOT NULL PRIMARY KEY REFERENCES accounts (account_id),
            overage    INTEGER NOT NULL
        ) STRICT;

        CREATE TABLE lot_corrections (
            id     INTEGER PRIMARY KEY,
            lot_id TEXT NOT NULL REFERENCES credit_lots (lot_id),
            delta  INTEGER NOT NULL,
            reason TEXT NOT NULL,
            at     INTEGER NOT NULL
        ) STRICT;

        CREATE INDEX ix_lot_corrections_lot ON lot_corrections (lot_id, id);

        ALTER TABLE usage_records ADD COLUMN contract_id TEXT;
        ALTER TABLE usage_records ADD COLUMN contract_version INTEGER;
        ALTER TABLE usage_records ADD COLUMN units_micro INTEGER;
        ALTER TABLE usage_records ADD COLUMN redeemed_micro INTEGER;
        ALTER TABLE usage_records ADD COLUMN overage_micro INTEGER;
        ALTER TABLE usage_records ADD COLUMN lot_ids TEXT NOT NULL DEFAULT '[]';
        """,

        // 3: how a record's units were priced (which count, and why), and what metering noticed about its inputs.
        """
        ALTER TABLE usage_records ADD COLUMN units_basis TEXT;
        ALTER TABLE usage_records ADD COLUMN flags TEXT NOT NULL DEFAULT '';
        """,

        // 4: the usage log: one entry per closed record, numbered from 0 in the order they closed. A record's entry
        // is written in the same write that closes it, so the log holds every closed record and nothing else.
        """
        CREATE TABLE log_entries (
            idx      INTEGER NOT NULL PRIMARY KEY,
            usage_id TEXT NOT NULL UNIQUE,
            entry    BLOB NOT NULL
        ) STRICT;
        """,

        // 5: signed interval statements. Each log entry also carries its record's contract and start time, so a
        // contract's interval is one index range scan over the log, off the hot usage table.
        """
        ALTER TABLE log_entries ADD COLUMN contract_id TEXT;
        ALTER TABLE log_entries ADD COLUMN started_at INTEGER;
        UPDATE log_entries SET
            contract_id = (SELECT u.contract_id FROM usage_records u WHERE u.id = log_entries.usage_id),
            started_at = (SELECT u.started_at FROM usage_records u WHERE u.id = log_entries.usage_id);
        CREATE INDEX ix_log_entries_contract_started ON log_entries (contract_id, started_at) WHERE contract_id IS NOT NULL;

        CREATE TABLE statements (
            seq            INTEGER NOT NULL PRIMARY KEY,
            contract_id    TEXT NOT NULL,
            interval_start INTEGER NOT NULL,
            interval_end   INTEGER NOT NULL,
            amends         INTEGER REFERENCES statements (seq),
            tree_size      INTEGER NOT NULL,
            digest         BLOB NOT NULL,
            envelope       BLOB NOT NULL,
            created_at     INTEGER NOT NULL
        ) STRICT;

        CREATE INDEX ix_statements_contract_interval ON statements (contract_id, interval_start);
        """,

        // 6: the write-ahead journal. An open is one narrow append here (the record packed in one BLOB, keyed by its
        // rowid, no other index) instead of a wide usage_records row that its close then updates; the close inserts
        // the usage_records row, and the journal rows of closed records are deleted in bulk off the request path.
        // Records a crash leaves open are the journal rows with no usage_records row: recovery closes them.
        """
        CREATE TABLE usage_journal (
            seq    INTEGER PRIMARY KEY,
            id     TEXT NOT NULL,
            record BLOB NOT NULL
        ) STRICT;
        """,

        // 7: rate limits an operator set per account (key_id '') and per key; null columns are no limit of that kind.
        // Bucket state is not stored: it lives in memory and a restart starts every bucket with its full limit.
        """
        CREATE TABLE rate_limits (
            account_id          TEXT NOT NULL REFERENCES accounts (account_id),
            key_id              TEXT NOT NULL,
            tokens_per_minute   INTEGER,
            requests_per_minute INTEGER,
            PRIMARY KEY (account_id, key_id)
        ) STRICT, WITHOUT ROWID;
        """,

        // 8: opens move to a journal file beside the database (UsageOpenJournal), so the request path never waits for
        // a SQLite commit or a WAL checkpoint. The opens this table still holds were moved to a journal segment just
        // before this runs (UsageJournalMigration), so recovery closes them like any other.
        """
        DROP TABLE usage_journal;
        """,

        // 9: the settle outbox of distributed mode. A credited request's
        // settle intent (its reservation, the amount to post, the closed record) is durable here before the post goes to
        // Redis; the record's close and the intent's delete are one transaction after the post is acknowledged, and
        // start-up recovery leaves a record with an intent open for the outbox to close (docs/distributed.md).
        """
        CREATE TABLE settle_outbox (
            usage_id       TEXT NOT NULL PRIMARY KEY,
            reservation_id TEXT NOT NULL,
            account_id     TEXT NOT NULL,
            actual_micro   INTEGER,
            status         TEXT NOT NULL,
            record         BLOB NOT NULL,
            draws          TEXT NOT NULL,
            created_at     INTEGER NOT NULL
        ) STRICT;
        """,

        // 10: the consoles' reads at a million records. Indexes for the record pages (newest first by id within an
        // account; the few records not completed by status: a completed record, nearly every one, writes no entry), and
        // rollups of the closed
        // records' totals per account, UTC day, contract and model (and per day, contract and model over all accounts)
        // that the live counters and the daily reports read instead of summing every record. The rollups are folded in
        // from usage_records in rowid order (rows are only ever appended, in commit order) up to the watermark in
        // usage_rollup_state, off the request path (UsageRollupService); a read adds the rows past the watermark itself.
        // A row already folded that is updated (a record closed again, or an old file's open row closed by recovery) is
        // moved by the trigger: its old totals out, its new in. The step folds every row the file has.
        $"""
        CREATE INDEX ix_usage_records_account_id ON usage_records (account_id, id);
        CREATE INDEX ix_usage_records_status_id ON usage_records (status, id) WHERE status <> '{UsageRollupSql.Completed}';

        CREATE TABLE usage_rollup (
            account_id                 TEXT NOT NULL,
            day                        INTEGER NOT NULL,
            contract_id                TEXT NOT NULL,
            model                      TEXT NOT NULL,
            requests                   INTEGER NOT NULL,
            reference_input_tokens     INTEGER NOT NULL,
            reference_output_tokens    INTEGER NOT NULL,
            native_input_tokens        INTEGER NOT NULL,
            native_cached_input_tokens INTEGER NOT NULL,
            native_cache_write_tokens  INTEGER NOT NULL,
            native_output_tokens       INTEGER NOT NULL,
            native_reasoning_tokens    INTEGER NOT NULL,
            units_micro                INTEGER NOT NULL,
            redeemed_micro             INTEGER NOT NULL,
            overage_micro              INTEGER NOT NULL,
            PRIMARY KEY (account_id, day, contract_id, model)
        ) STRICT, WITHOUT ROWID;

        CREATE TABLE usage_rollup_day (
            day                        INTEGER NOT NULL,
            contract_id                TEXT NOT NULL,
            model                      TEXT NOT NULL,
            requests                   INTEGER NOT NULL,
            reference_input_tokens     INTEGER NOT NULL,
            reference_output_tokens    INTEGER NOT NULL,
            native_input_tokens        INTEGER NOT NULL,
            native_cached_input_tokens INTEGER NOT NULL,
            native_cache_write_tokens  INTEGER NOT NULL,
            native_output_tokens       INTEGER NOT NULL,
            native_reasoning_tokens    INTEGER NOT NULL,
            units_micro                INTEGER NOT NULL,
            redeemed_micro             INTEGER NOT NULL,
            overage_micro              INTEGER NOT NULL,
            PRIMARY KEY (day, contract_id, model)
        ) STRICT, WITHOUT ROWID;

        CREATE TABLE usage_rollup_state (
            only   INTEGER NOT NULL PRIMARY KEY CHECK (only = 1),
            folded INTEGER NOT NULL
        ) STRICT;

        INSERT INTO usage_rollup_state (only, folded) VALUES (1, 0);

        {UsageRollupSql.UpdateTrigger}

        {UsageRollupSql.FoldRollups("(SELECT MAX(rowid) FROM usage_records)")}
        """,

        // 11: the range of record ids per account and UTC day (UsageRollupSql.IdRangeTables), so a time bound on the
        // record pages is an id bound; folded with the rollups from then on, and here over every row the file has.
        $"""
        {UsageRollupSql.IdRangeTables}

        {UsageRollupSql.FoldIdRanges("0", "(SELECT MAX(rowid) FROM usage_records)")}
        """,

        // 12: the expiry sweep's index holds only the pending reservations (the requests in flight), not every
        // reservation ever resolved: a reserve adds one entry and its settlement removes it, so the index stays a page
        // or two, where (state, expires_at) moved each settled reservation to a region that grew with every request.
        // Both readers of pending reservations (the sweep, and the console's list per account) say state = 'pending'.
        $"""
        DROP INDEX ix_reservations_state_expires;
        CREATE INDEX ix_reservations_pending_expires ON reservations (expires_at) WHERE state = '{ReservationStateNames.Pending}';
        """,

        // 13: the overage a pending reservation was granted beyond its credits (its shortfall), so allow_up_to counts
        // the requests in flight beside the overage already posted. Reservations pending at the upgrade hold none.
        "ALTER TABLE reservations ADD COLUMN overage_held INTEGER NOT NULL DEFAULT 0;",
    ];

    /// <summary>The version whose step moves <c>usage_journal</c>'s open rows to the journal file before dropping the table.</summary>
    private const int JournalFileVersion = 8;

    public static int CurrentVersion => Migrations.Length;

    /// <summary>
    /// Applies the steps this file lacks, up to <paramref name="target"/> (tests build older files with it); returns
    /// the version it started from.
    /// </summary>
    public static int Migrate(SqliteConnection connection, int? target = null)
    {
        var to = target ?? CurrentVersion;
        ArgumentOutOfRangeException.ThrowIfGreaterThan(to, CurrentVersion, nameof(target));
        var from = ReadVersion(connection);
        if (from > CurrentVersion)
        {
            throw new InvalidOperationException(
                $"The database schema is version {from}, newer than this build knows ({CurrentVersion}); refusing to touch it.");
        }

        int version;
        while ((version = ReadVersion(connection)) < to)
        {
            using var transaction = connection.BeginTransaction();

            // Re-read under the write lock: another process may have migrated meanwhile.
            if (ReadVersion(connection, transaction) != version)
            {
                transaction.Rollback();
                continue;
            }

            if (version + 1 == JournalFileVersion)
            {
                UsageJournalMigration.MoveOpenRows(connection, transaction);
            }

            using var command = connection.CreateCommand();
            command.Transaction = transaction;
            command.CommandText = Migrations[version] + $"\nPRAGMA user_version = {version + 1};";
            command.ExecuteNonQuery();
            transaction.Commit();
        }

        return from;
    }

    private static int ReadVersion(SqliteConnection connection, SqliteTransaction? transaction = null)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "PRAGMA user_version;";
        return Convert.ToInt32(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
    }
}
