namespace MeterAgent.Verify.Tests;

/// <summary>One run of <c>meteragent verify</c> through the tool's entry point, its exit code and what it wrote.</summary>
internal sealed record VerifyRun(int Exit, string Stdout, string Stderr)
{
    public static async Task<VerifyRun> RunAsync(params string[] args)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var exit = await MeterAgentTool.RunAsync(["verify", .. args], stdout, stderr);
        return new VerifyRun(exit, stdout.ToString(), stderr.ToString());
    }

    /// <summary>Exit 0 with a one-line summary.</summary>
    public string Passed()
    {
        Assert.True(Exit == 0, $"verify exited {Exit}: {Stderr}");
        Assert.Single(Stdout.TrimEnd('\n').Split('\n'));
        return Stdout.Trim();
    }

    /// <summary>Exit 1 with the fault named; returns the fault.</summary>
    public string Failed(string expected)
    {
        Assert.True(Exit == 1, $"verify exited {Exit}, not 1: {Stdout}{Stderr}");
        Assert.StartsWith("verify: FAILED: ", Stderr, StringComparison.Ordinal);
        Assert.Contains(expected, Stderr, StringComparison.Ordinal);
        return Stderr.Trim();
    }
}
