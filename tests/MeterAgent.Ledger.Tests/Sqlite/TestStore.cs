using MeterAgent.Ledger.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace MeterAgent.Ledger.Tests.Sqlite;

/// <summary>The store objects over one file, wired as the DI extension wires them: one writer shared by all.</summary>
internal sealed class TestStore : IAsyncDisposable
{
    private TestStore(SqliteDatabase database, SqliteWriter writer, SqliteAccountStore accounts, SqliteUsageStore usage, SqliteCreditLedger credits)
    {
        Database = database;
        Writer = writer;
        Accounts = accounts;
        Usage = usage;
        Credits = credits;
    }

    public SqliteDatabase Database { get; }

    public SqliteWriter Writer { get; }

    public SqliteAccountStore Accounts { get; }

    public SqliteUsageStore Usage { get; }

    public SqliteCreditLedger Credits { get; }

    public static TestStore Open(string path, TimeProvider? time = null, Action<SqliteStoreOptions>? configure = null)
    {
        var options = new SqliteStoreOptions { Path = path };
        configure?.Invoke(options);
        time ??= TimeProvider.System;
        var database = new SqliteDatabase(Options.Create(options), NullLogger<SqliteDatabase>.Instance);
        var writer = new SqliteWriter(database, NullLogger<SqliteWriter>.Instance);
        return new TestStore(
            database,
            writer,
            new SqliteAccountStore(database, time),
            new SqliteUsageStore(writer, database, time, NullLogger<SqliteUsageStore>.Instance),
            new SqliteCreditLedger(writer, database));
    }

    public async ValueTask DisposeAsync()
    {
        await Writer.DisposeAsync();
        Database.Dispose();
    }
}
