using System.Diagnostics;

namespace MeterAgent.Testing;

/// <summary>Runs promtool (Debian's prometheus package) on the repository's rule files.</summary>
public static class Promtool
{
    /// <summary>The folder of the alert rules and their unit tests.</summary>
    public static string RulesFolder => Path.Combine(RepoRoot.Path, "deploy", "prometheus");

    public static string RulesFile => Path.Combine(RulesFolder, "meteragent-rules.yaml");

    /// <summary>The promtool unit test files (tests/*.yaml).</summary>
    public static IReadOnlyList<string> TestFiles =>
        Directory.GetFiles(Path.Combine(RulesFolder, "tests"), "*.yaml").Order(StringComparer.Ordinal).ToList();

    /// <summary>`promtool <paramref name="arguments"/>` in <paramref name="workingDirectory"/>: its exit code and what it printed.</summary>
    public static (int ExitCode, string Output) Run(string workingDirectory, params string[] arguments)
    {
        ArgumentNullException.ThrowIfNull(arguments);
        var start = new ProcessStartInfo("promtool")
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var promtool = Process.Start(start) ?? throw new InvalidOperationException("promtool did not start");
        var stdout = promtool.StandardOutput.ReadToEndAsync();
        var stderr = promtool.StandardError.ReadToEndAsync();
        if (!promtool.WaitForExit(TimeSpan.FromMinutes(2)))
        {
            promtool.Kill();
            Assert.Fail($"promtool {string.Join(' ', arguments)} did not finish in 2 minutes");
        }

        return (promtool.ExitCode, stdout.Result + stderr.Result);
    }
}
