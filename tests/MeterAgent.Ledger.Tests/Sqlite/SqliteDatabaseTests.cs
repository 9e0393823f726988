using MeterAgent.Ledger.Sqlite;

namespace MeterAgent.Ledger.Tests.Sqlite;

public sealed class SqliteDatabaseTests
{
    private static object? Scalar(SqliteDatabase database, string sql)
    {
        using var connection = database.OpenConnection();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return command.ExecuteScalar();
    }

    [Fact]
    public async Task Opens_in_wal_mode_with_the_schema_version_and_creates_the_folder()
    {
        using var dir = new TempFolder();
        var path = Path.Combine(dir.Path, "nested", "deeper", "store.db");
        await using var store = TestStore.Open(path);

        Assert.True(File.Exists(path));
        Assert.Equal("wal", Scalar(store.Database, "PRAGMA journal_mode;"));
        Assert.Equal((long)SqliteSchema.CurrentVersion, Scalar(store.Database, "PRAGMA user_version;"));
        Assert.Equal(1L, Scalar(store.Database, "PRAGMA synchronous;"));
        Assert.Equal(5000L, Scalar(store.Database, "PRAGMA busy_timeout;"));
    }

    [Fact]
    public async Task Synchronous_full_is_applied_to_every_connection()
    {
        using var dir = new TempFolder();
        await using var store = TestStore.Open(dir.DbPath, configure: o => o.Synchronous = SqliteSynchronousMode.Full);

        Assert.Equal(2L, Scalar(store.Database, "PRAGMA synchronous;"));
    }

    [Fact]
    public async Task Reopening_keeps_the_data_and_does_not_migrate_again()
    {
        using var dir = new TempFolder();
        string accountId;
        await using (var first = TestStore.Open(dir.DbPath))
        {
            accountId = (await first.Accounts.CreateAccountAsync("Acme")).Id;
        }

        await using var second = TestStore.Open(dir.DbPath);
        Assert.Equal("Acme", (await second.Accounts.GetAccountAsync(accountId))!.Name);
        Assert.Equal((long)SqliteSchema.CurrentVersion, Scalar(second.Database, "PRAGMA user_version;"));
    }

    [Fact]
    public async Task A_file_from_a_newer_schema_is_refused()
    {
        using var dir = new TempFolder();
        await using (var store = TestStore.Open(dir.DbPath))
        {
            Scalar(store.Database, "PRAGMA user_version = 99;");
        }

        var ex = Assert.Throws<InvalidOperationException>(() => TestStore.Open(dir.DbPath));
        Assert.Contains("99", ex.Message, StringComparison.Ordinal);
    }
}
