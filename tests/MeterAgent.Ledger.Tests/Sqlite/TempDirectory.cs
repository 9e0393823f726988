using Microsoft.Data.Sqlite;

namespace MeterAgent.Ledger.Tests.Sqlite;

/// <summary>A fresh folder per test, so every test works on its own real database file.</summary>
internal sealed class TempDirectory : IDisposable
{
    public TempDirectory()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "meteragent-ledger-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string DbPath => System.IO.Path.Combine(Path, "meteragent.db");

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        // Pooled connections hold the files open; release the idle ones before deleting.
        SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // A store a test deliberately never disposed (a simulated crash) may still hold a file.
        }
    }
}
