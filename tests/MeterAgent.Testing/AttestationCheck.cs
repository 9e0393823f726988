using System.Diagnostics;

namespace MeterAgent.Testing;

/// <summary>
/// Runs the independent verifiers in tests/attestation-check (node's built-in crypto, written from the specs) from any
/// test project, on what a running agent serves: what a third party would run against it.
/// </summary>
public static class AttestationCheck
{
    private static readonly string CheckDirectory = System.IO.Path.Combine(RepoRoot.Path, "tests", "attestation-check");

    /// <summary>Whether node runs here; a test requires it with <see cref="Prerequisite.Require"/>.</summary>
    public static bool NodeIsAvailable()
    {
        try
        {
            using var node = Process.Start(new ProcessStartInfo("node", "--version") { RedirectStandardOutput = true });
            return node is not null && node.WaitForExit(TimeSpan.FromSeconds(30)) && node.ExitCode == 0;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return false;
        }
    }

    /// <summary>Runs <c>node &lt;script&gt; &lt;arguments&gt;</c>; its exit code, and stdout then stderr.</summary>
    public static (int ExitCode, string Output) Run(string script, params string[] arguments)
    {
        var start = new ProcessStartInfo("node")
        {
            WorkingDirectory = CheckDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.ArgumentList.Add(script);
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var node = Process.Start(start) ?? throw new InvalidOperationException("node did not start");
        var stdout = node.StandardOutput.ReadToEndAsync();
        var stderr = node.StandardError.ReadToEndAsync();
        if (!node.WaitForExit(TimeSpan.FromMinutes(1)))
        {
            node.Kill();
            Assert.Fail($"node {script} did not finish in a minute");
        }

        return (node.ExitCode, stdout.Result + stderr.Result);
    }
}
