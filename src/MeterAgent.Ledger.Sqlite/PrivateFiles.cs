namespace MeterAgent.Ledger.Sqlite;

/// <summary>
/// The database holds key hashes, usage and balances: on Unix its folder is created 0700 and the file 0600 before
/// SQLite opens it. SQLite gives the -wal and -shm files it creates the database file's own mode, so they follow.
/// </summary>
internal static class PrivateFiles
{
    private const UnixFileMode OwnerFolder = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
    private const UnixFileMode OwnerFile = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    public static void Prepare(string databasePath)
    {
        var folder = Path.GetDirectoryName(databasePath);
        if (OperatingSystem.IsWindows())
        {
            if (!string.IsNullOrEmpty(folder))
            {
                Directory.CreateDirectory(folder);
            }

            return;
        }

        // A folder the operator made keeps its mode: it may be shared on purpose (a mounted volume).
        if (!string.IsNullOrEmpty(folder) && !Directory.Exists(folder))
        {
            Directory.CreateDirectory(folder, OwnerFolder);
        }

        if (!File.Exists(databasePath))
        {
            using var created = new FileStream(databasePath, new FileStreamOptions
            {
                Mode = FileMode.CreateNew,
                Access = FileAccess.Write,
                UnixCreateMode = OwnerFile,
            });
        }
        else if ((File.GetUnixFileMode(databasePath) & ~OwnerFile) != 0)
        {
            // A file from an older build, or copied in with a wider mode: narrowed, along with its WAL companions.
            File.SetUnixFileMode(databasePath, OwnerFile);
            foreach (var companion in (ReadOnlySpan<string>)["-wal", "-shm"])
            {
                if (File.Exists(databasePath + companion))
                {
                    File.SetUnixFileMode(databasePath + companion, OwnerFile);
                }
            }
        }
    }
}
