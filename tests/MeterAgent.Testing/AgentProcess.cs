using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;

namespace MeterAgent.Testing;

/// <summary>
/// MeterAgent as a real child process (`dotnet MeterAgent.dll`), so a test can kill -9 it or send it SIGTERM. The
/// agent's build output must be beside the tests: reference src/MeterAgent from the test project.
/// </summary>
public sealed class AgentProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _output;

    private AgentProcess(Process process, ConcurrentQueue<string> output, string proxyUrl, string managementUrl)
    {
        _process = process;
        _output = output;
        ProxyUrl = proxyUrl;
        ManagementUrl = managementUrl;
    }

    public string ProxyUrl { get; }

    public string ManagementUrl { get; }

    public int ProcessId => _process.Id;

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    /// <summary>What the process wrote to stdout and stderr so far, for failure messages.</summary>
    public string Output => string.Join('\n', _output);

    /// <summary>The agent on the fixture's settings (admin token, upstream key, emulator headers), then <paramref name="extraSettings"/>.</summary>
    /// <param name="databasePath">the SQLite file; its folder is the working directory</param>
    /// <param name="upstreamUrl">the emulator (both clusters)</param>
    /// <param name="proxyPort">client traffic</param>
    /// <param name="managementPort">health and admin</param>
    /// <param name="extraSettings">more command-line settings, "--Key=Value"</param>
    public static Task<AgentProcess> StartAsync(string databasePath, string upstreamUrl, int proxyPort, int managementPort, params string[] extraSettings)
    {
        ArgumentNullException.ThrowIfNull(databasePath);
        string[] settings =
        [
            $"--MeterAgent:ProxyPort={proxyPort.ToString(CultureInfo.InvariantCulture)}",
            $"--MeterAgent:ManagementPort={managementPort.ToString(CultureInfo.InvariantCulture)}",
            $"--MeterAgent:AdminToken={TestAgent.AdminToken}",
            $"--MeterAgent:Upstreams:openai:ApiKey={TestAgent.UpstreamKey}",
            $"--MeterAgent:Upstreams:anthropic:ApiKey={TestAgent.UpstreamKey}",
            "--MeterAgent:Upstreams:anthropic:Scheme=XApiKey",
            $"--ReverseProxy:Clusters:openai:Destinations:primary:Address={upstreamUrl}",
            $"--ReverseProxy:Clusters:anthropic:Destinations:primary:Address={upstreamUrl}",
            $"--Store:Path={databasePath}",
            "--Logging:LogLevel:Default=Warning",

            // Tests steer the emulator per request (faults, pacing): those headers must cross the proxy.
            "--MeterAgent:Headers:Request:0=x-emulator-*",
        ];
        return StartRawAsync(Path.GetDirectoryName(databasePath)!, proxyPort, managementPort, [.. settings, .. extraSettings]);
    }

    /// <summary>`dotnet MeterAgent.dll` with exactly <paramref name="arguments"/>, ready when the management port answers /healthz/ready.</summary>
    /// <param name="workingDirectory">the process's working directory (relative store paths land there)</param>
    /// <param name="proxyPort">the proxy port the arguments set</param>
    /// <param name="managementPort">the management port the arguments set</param>
    /// <param name="arguments">the command line after the dll</param>
    public static async Task<AgentProcess> StartRawAsync(string workingDirectory, int proxyPort, int managementPort, params string[] arguments)
    {
        ArgumentNullException.ThrowIfNull(arguments);
        var agentDll = Path.Combine(AppContext.BaseDirectory, "MeterAgent.dll");
        Assert.True(File.Exists(agentDll), $"MeterAgent.dll not found beside the tests at {agentDll}");
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

        var output = new ConcurrentQueue<string>();
        var process = Process.Start(start) ?? throw new InvalidOperationException("could not start dotnet");
        process.OutputDataReceived += (_, line) => Keep(output, line.Data);
        process.ErrorDataReceived += (_, line) => Keep(output, line.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var agent = new AgentProcess(
            process,
            output,
            string.Create(CultureInfo.InvariantCulture, $"http://127.0.0.1:{proxyPort}/"),
            string.Create(CultureInfo.InvariantCulture, $"http://127.0.0.1:{managementPort}/"));
        try
        {
            await agent.WaitReadyAsync();
        }
        catch
        {
            await agent.DisposeAsync();
            throw;
        }

        return agent;
    }

    private static void Keep(ConcurrentQueue<string> output, string? line)
    {
        // Bounded: a chatty process must not grow the test's memory.
        if (line is not null && output.Count < 10_000)
        {
            output.Enqueue(line);
        }
    }

    public HttpClient AdminClient()
    {
        var client = new HttpClient { BaseAddress = new Uri(ManagementUrl), Timeout = TimeSpan.FromSeconds(30) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", TestAgent.AdminToken);
        return client;
    }

    /// <summary>SIGKILL: no shutdown hooks, no flush, as a crash.</summary>
    public void KillHard()
    {
        _process.Kill(entireProcessTree: true);
        _process.WaitForExit();
    }

    /// <summary>SIGTERM, as a service manager stops the agent: the host's graceful stop runs.</summary>
    public void Terminate()
    {
        using var kill = Process.Start(new ProcessStartInfo("kill") { ArgumentList = { "-TERM", _process.Id.ToString(CultureInfo.InvariantCulture) } })
            ?? throw new InvalidOperationException("could not run kill");
        kill.WaitForExit();
        Assert.True(kill.ExitCode == 0, $"kill -TERM {_process.Id} failed with {kill.ExitCode}");
    }

    /// <summary>Waits for the process to exit by itself, within <see cref="Eventually.Deadline"/>.</summary>
    public async Task<int> WaitForExitAsync()
    {
        using var timeout = new CancellationTokenSource(Eventually.Deadline);
        try
        {
            await _process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            throw new Xunit.Sdk.XunitException($"agent {_process.Id} did not exit within {Eventually.Deadline.TotalSeconds} s:\n{Output}");
        }

        return _process.ExitCode;
    }

    private async Task WaitReadyAsync()
    {
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        await Eventually.TrueAsync(
            async () =>
            {
                if (_process.HasExited)
                {
                    throw new InvalidOperationException($"agent exited with {_process.ExitCode} before it was ready:\n{Output}");
                }

                try
                {
                    using var response = await client.GetAsync(new Uri(ManagementUrl + "healthz/ready"));
                    return response.IsSuccessStatusCode;
                }
                catch (HttpRequestException)
                {
                    return false; // Not listening yet.
                }
                catch (TaskCanceledException)
                {
                    return false; // Not answering yet.
                }
            },
            "agent ready (healthz/ready)");
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }
}
