using MeterAgent.Ledger.Credits;
using MeterAgent.Ledger.Sqlite;
using MeterAgent.Ledger.Tests.Credits;
using MeterAgent.Ledger.Usage;
using Microsoft.Data.Sqlite;

namespace MeterAgent.Ledger.Tests.Sqlite;

public sealed class SchemaMigrationTests
{
    /// <summary>A file exactly as the first release left it: schema v1 with an account and a closed usage record.</summary>
    private static void CreateVersion1(string path, string accountId, UsageRecord record)
    {
        using var connection = new SqliteConnection($"Data Source={path}");
        connection.Open();
        using (var wal = connection.CreateCommand())
        {
            wal.CommandText = "PRAGMA journal_mode = WAL;";
            wal.ExecuteNonQuery();
        }

        SqliteSchema.Migrate(connection, target: 1);
        using var insert = connection.CreateCommand();
        insert.CommandText = """
            INSERT INTO accounts (account_id, name, created_at) VALUES (@account, 'Acme', 0);
            INSERT INTO usage_records (id, account_id, key_id, surface, stream, started_at, status, native_reported,
                reference_input_tokens, reference_output_tokens, quality, non_text_input)
            VALUES (@id, @account, 'key_1', 'openai.chat_completions', 0, @started, 'completed', 0, 12, 34, 'estimated', 0);
            """;
        insert.Parameters.AddWithValue("@account", accountId);
        insert.Parameters.AddWithValue("@id", record.Id);
        insert.Parameters.AddWithValue("@started", UsageRecords.T0.ToUnixTimeMilliseconds() * 1000);
        insert.ExecuteNonQuery();
        SqliteConnection.ClearPool(connection);
    }

    [Fact]
    public async Task A_version_1_file_migrates_forward_keeping_its_records_and_takes_credits_after()
    {
        using var dir = new TempFolder();
        const string AccountId = "acct_00000000000000a1";
        var old = UsageRecords.Minimal(AccountId);
        CreateVersion1(dir.DbPath, AccountId, old);

        await using var store = TestStore.Open(dir.DbPath);

        using (var connection = store.Database.OpenConnection())
        using (var version = connection.CreateCommand())
        {
            version.CommandText = "PRAGMA user_version;";
            Assert.Equal((long)SqliteSchema.CurrentVersion, version.ExecuteScalar());
        }

        // The old record reads back with no credit fields: it predates them.
        var migrated = await store.Usage.GetAsync(old.Id);
        Assert.NotNull(migrated);
        Assert.Equal((12L, 34L, UsageStatus.Completed), (migrated.ReferenceInputTokens, migrated.ReferenceOutputTokens, migrated.Status));
        Assert.Null(migrated.ContractId);
        Assert.Null(migrated.ContractVersion);
        Assert.Null(migrated.UnitsMicro);
        Assert.Null(migrated.RedeemedMicro);
        Assert.Null(migrated.OverageMicro);
        Assert.Empty(migrated.LotIds);

        // The old account takes deliveries and reservations.
        var delivery = await store.Credits.ApplyDeliveryAsync(Credit.Notice(AccountId, 5 * Credit.Unit), Credit.T0);
        Assert.Equal(DeliveryOutcomeKind.Applied, delivery.Kind);
        Assert.True((await store.Credits.ReserveAsync(Credit.Request(AccountId, Credit.Unit))).Granted);

        // And new records keep the credit fields.
        var full = UsageRecords.Full(UsageRecords.T0.AddSeconds(1));
        await store.Usage.CloseAsync(full);
        UsageRecords.AssertSame(full, await store.Usage.GetAsync(full.Id));
    }

    [Fact]
    public async Task Lot_ids_are_stored_as_a_json_array_any_sqlite_tool_can_read()
    {
        using var dir = new TempFolder();
        await using var store = TestStore.Open(dir.DbPath);
        var record = UsageRecords.Full(UsageRecords.T0);
        record.LotIds = ["lot_00000000000000a1", "lot_\"quoted\""];

        await store.Usage.CloseAsync(record);

        using var connection = store.Database.OpenConnection();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT group_concat(value, '|') FROM usage_records, json_each(usage_records.lot_ids) WHERE usage_records.id = @id;";
        command.Parameters.AddWithValue("@id", record.Id);
        Assert.Equal("lot_00000000000000a1|lot_\"quoted\"", command.ExecuteScalar());
        UsageRecords.AssertSame(record, await store.Usage.GetAsync(record.Id));
    }
}
