using MeterAgent.Ledger.Sqlite;

namespace MeterAgent.Ledger.Tests.Sqlite;

public sealed class WriterTempFileTests
{
    [SkippableFact]
    public async Task A_write_under_its_savepoint_keeps_its_undo_in_memory_not_in_a_temporary_file()
    {
        Prerequisite.Require(OperatingSystem.IsLinux(), "This test reads the open files from /proc/self/fd, which only Linux has.");

        using var dir = new TempFolder();
        await using var store = TestStore.Open(dir.DbPath);

        // Pages that exist before the write: changing them under a savepoint is what the statement journal records.
        // 300 rows of 1 KB are ~75 pages, past the 64 KiB SQLite keeps of a statement journal in memory before it
        // spills it to a temporary file (when temp_store is a file).
        using (var connection = store.Database.OpenConnection())
        using (var command = connection.CreateCommand())
        {
            command.CommandText = """
                CREATE TABLE scratch (n INTEGER PRIMARY KEY, payload BLOB NOT NULL);
                WITH RECURSIVE k(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM k WHERE n < 300)
                INSERT INTO scratch SELECT n, randomblob(1000) FROM k;
                """;
            command.ExecuteNonQuery();
        }

        var open = await store.Writer.SubmitAsync(new RewriteAndListTempFiles(), CancellationToken.None);

        Assert.Empty(open);
    }

    /// <summary>
    /// Rewrites every scratch row in one write (a savepoint of the writer's transaction, as a reserve or a settlement
    /// runs), then lists the process's open SQLite temporary files ("etilqs_" names, unlinked once open) while the
    /// transaction still holds them.
    /// </summary>
    private sealed class RewriteAndListTempFiles : SqliteWriteOperation<string[]>
    {
        public override string Description => "rewrite scratch rows";

        protected override string[] Run(SqliteWriteContext context)
        {
            var update = context.Command("UPDATE scratch SET payload = randomblob(1000);");
            var changed = update.ExecuteNonQuery();
            Assert.Equal(300, changed);
            return [.. new DirectoryInfo("/proc/self/fd").EnumerateFileSystemInfos()
                .Select(fd => fd.LinkTarget)
                .Where(target => target is not null && target.Contains("etilqs_", StringComparison.Ordinal))
                .Select(target => target!)];
        }
    }
}
