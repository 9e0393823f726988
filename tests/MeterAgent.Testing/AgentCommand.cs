using System.Diagnostics;

namespace MeterAgent.Testing;

/// <summary>What a run of the agent's executable that ends by itself (a check, a refused start) printed and returned.</summary>
public sealed record AgentCommandResult(int ExitCode, string Output, string Error);

/// <summary>`dotnet MeterAgent.dll` with the given arguments, run to its exit (within <see cref="Eventually.Deadline"/>).</summary>
public static class AgentCommand
{
    public static async Task<AgentCommandResult> RunAsync(string workingDirectory, params string[] arguments)
    {
        ArgumentNullException.ThrowIfNull(arguments);
        var agentDll = Path.Combine(AppContext.BaseDirectory, "MeterAgent.dll");
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = workingDirectory,
        };
        start.ArgumentList.Add(agentDll);
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException("could not start dotnet");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(Eventually.Deadline);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new Xunit.Sdk.XunitException($"`MeterAgent {string.Join(' ', arguments)}` did not exit within {Eventually.Deadline.TotalSeconds} s");
        }

        return new AgentCommandResult(process.ExitCode, await output, await error);
    }
}
