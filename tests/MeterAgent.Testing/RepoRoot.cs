namespace MeterAgent.Testing;

/// <summary>Finds the repository root from the test binaries, so tests read the files the repo really ships.</summary>
public static class RepoRoot
{
    public static string Path { get; } = Find();

    private static string Find()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(System.IO.Path.Combine(dir.FullName, "MeterAgent.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"No MeterAgent.sln above {AppContext.BaseDirectory}.");
    }
}
