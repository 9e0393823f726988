using System.Diagnostics;

namespace MeterAgent.Verify.Tests;

/// <summary>The tools run from the agent's own executable: <c>dotnet MeterAgent.dll verify ...</c>.</summary>
public sealed class ExecutableTests : IDisposable
{
    private readonly TempFolder _folder = new("meteragent-verify-exe-");

    public void Dispose() => _folder.Dispose();

    private static async Task<(int Exit, string Stdout, string Stderr)> RunAgentAsync(params string[] args)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "MeterAgent.dll"));
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await stdout, await stderr);
    }

    [Fact]
    public async Task The_agents_executable_runs_verify_with_its_exit_codes()
    {
        var log = LogFixture.Standard();
        log.WriteTo(_folder.Path);

        var ok = await RunAgentAsync("verify", "--log", _folder.Path, "--key", log.VerifierKey);
        var usage = await RunAgentAsync("verify", "--log", _folder.Path);

        Assert.True(ok.Exit == 0, ok.Stderr);
        Assert.StartsWith("verified meteragent.test/log: size 14", ok.Stdout, StringComparison.Ordinal);
        Assert.Equal(2, usage.Exit);
        Assert.Contains("--key is required", usage.Stderr, StringComparison.Ordinal);
    }
}
