using Microsoft.Data.Sqlite;

namespace MeterAgent.Ledger.Sqlite;

/// <summary>
/// The step from schema 7 to 8, before its SQL drops <c>usage_journal</c>: the opens the table still holds (left by a
/// crash, or by a clean stop with requests in flight) are written, framed, to a new segment of the journal file and
/// fsynced there, so recovery closes them as it closes any open. Should the process die before the migration commits,
/// the table is still there and the next start writes them again; recovery takes each id once.
/// </summary>
internal static class UsageJournalMigration
{
    public static void MoveOpenRows(SqliteConnection connection, SqliteTransaction transaction)
    {
        var payloads = new List<byte[]>();
        using (var command = connection.CreateCommand())
        {
            command.Transaction = transaction;
            command.CommandText = UsageJournalSql.SelectOpen;
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                payloads.Add((byte[])reader.GetValue(0));
            }
        }

        if (payloads.Count == 0)
        {
            return;
        }

        var folder = JournalFrames.FolderFor(connection.DataSource);
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(folder);
        }
        else
        {
            Directory.CreateDirectory(folder, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }

        var segments = JournalFrames.ListSegments(folder);
        var seq = segments.Count == 0 ? 0 : segments[^1].Seq + 1;
        var length = JournalFrames.SegmentHeaderBytes;
        foreach (var payload in payloads)
        {
            length += JournalFrames.FrameHeaderBytes + payload.Length;
        }

        var bytes = new byte[length];
        JournalFrames.WriteSegmentHeader(bytes);
        var position = JournalFrames.SegmentHeaderBytes;
        foreach (var payload in payloads)
        {
            position += JournalFrames.WriteFrame(bytes.AsSpan(position), payload);
        }

        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, BufferSize = 0 };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        using (var file = new FileStream(JournalFrames.SegmentPath(folder, seq), options))
        {
            file.Write(bytes);
            file.Flush(flushToDisk: true);
        }

        DirectorySync.Flush(folder);
    }
}
