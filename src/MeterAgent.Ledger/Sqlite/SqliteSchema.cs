using Microsoft.Data.Sqlite;

namespace MeterAgent.Ledger.Sqlite;

/// <summary>
/// Forward-only migrations, tracked in <c>PRAGMA user_version</c>. Each step runs in its own transaction with the
/// version bump, so a crash mid-migration leaves the previous version intact. Append new steps (credit lots,
/// reservations); never edit a shipped one.
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
    ];

    public static int CurrentVersion => Migrations.Length;

    /// <summary>Applies the steps this file lacks; returns the version it started from.</summary>
    public static int Migrate(SqliteConnection connection)
    {
        var from = ReadVersion(connection);
        if (from > CurrentVersion)
        {
            throw new InvalidOperationException(
                $"The database schema is version {from}, newer than this build knows ({CurrentVersion}); refusing to touch it.");
        }

        int version;
        while ((version = ReadVersion(connection)) < CurrentVersion)
        {
            using var transaction = connection.BeginTransaction();

            // Re-read under the write lock: another process may have migrated meanwhile.
            if (ReadVersion(connection, transaction) != version)
            {
                transaction.Rollback();
                continue;
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
