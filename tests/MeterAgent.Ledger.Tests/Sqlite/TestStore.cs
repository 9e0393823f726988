using MeterAgent.Ledger.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace MeterAgent.Ledger.Tests.Sqlite;

/// <summary>The three store objects over one file, wired as the DI extension wires them.</summary>
internal sealed class TestStore : IAsyncDisposable
{
    private TestStore(SqliteDatabase database, SqliteAccountStore accounts, SqliteUsageStore usage)
    {
        Database = database;
        Accounts = accounts;
        Usage = usage;
    }

    public SqliteDatabase Database { get; }

    public SqliteAccountStore Accounts { get; }

    public SqliteUsageStore Usage { get; }

    public static TestStore Open(string path, TimeProvider? time = null, Action<SqliteStoreOptions>? configure = null)
    {
        var options = new SqliteStoreOptions { Path = path };
        configure?.Invoke(options);
        time ??= TimeProvider.System;
        var database = new SqliteDatabase(Options.Create(options), NullLogger<SqliteDatabase>.Instance);
        return new TestStore(
            database,
            new SqliteAccountStore(database, time),
            new SqliteUsageStore(database, time, NullLogger<SqliteUsageStore>.Instance));
    }

    public async ValueTask DisposeAsync()
    {
        await Usage.DisposeAsync();
        Database.Dispose();
    }
}
