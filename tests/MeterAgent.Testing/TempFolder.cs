using Microsoft.Data.Sqlite;

namespace MeterAgent.Testing;

/// <summary>A fresh folder under the system temp folder, deleted (best effort) when disposed.</summary>
public sealed class TempFolder : IDisposable
{
    /// <param name="prefix">names the folder after its test, so a leftover says whose it is</param>
    public TempFolder(string prefix = "meteragent-test-") => Path = Directory.CreateTempSubdirectory(prefix).FullName;

    public string Path { get; }

    /// <summary>The agent's store file in this folder, as most store tests name it.</summary>
    public string DbPath => File("meteragent.db");

    /// <summary>A path inside the folder.</summary>
    public string File(string name) => System.IO.Path.Combine(Path, name);

    /// <summary>Writes a file in the folder and returns its path.</summary>
    public string Write(string name, string content)
    {
        var file = File(name);
        System.IO.File.WriteAllText(file, content);
        return file;
    }

    public void Dispose()
    {
        // Pooled SQLite connections hold a store's files open; the idle ones are released before deleting.
        SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // A leftover temp folder is harmless (e.g. a child process still holding a file).
        }
        catch (UnauthorizedAccessException)
        {
            // Same.
        }
    }
}
