using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;

namespace MeterAgent.IntegrationTests.Infrastructure;

/// <summary>MeterAgent as a real child process (`dotnet MeterAgent.dll`), so a test can kill -9 it.</summary>
internal sealed class AgentProcess : IAsyncDisposable
{
    private readonly Process _process;

    private AgentProcess(Process process, int proxyPort, int managementPort)
    {
        _process = process;
        ProxyUrl = $"http://127.0.0.1:{proxyPort}/";
        ManagementUrl = $"http://127.0.0.1:{managementPort}/";
    }

    public string ProxyUrl { get; }

    public string ManagementUrl { get; }

    public int ProcessId => _process.Id;

    public static async Task<AgentProcess> StartAsync(string databasePath, string upstreamUrl, int proxyPort, int managementPort, params string[] extraSettings)
    {
        // The agent's build output is copied beside the tests as a referenced project.
        var agentDll = Path.Combine(AppContext.BaseDirectory, "MeterAgent.dll");
        Assert.True(File.Exists(agentDll), $"MeterAgent.dll not found beside the tests at {agentDll}");
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = Path.GetDirectoryName(databasePath)!,
        };
        start.ArgumentList.Add(agentDll);
        foreach (var setting in new[]
                 {
                     $"--MeterAgent:ProxyPort={proxyPort.ToString(CultureInfo.InvariantCulture)}",
                     $"--MeterAgent:ManagementPort={managementPort.ToString(CultureInfo.InvariantCulture)}",
                     $"--MeterAgent:AdminToken={TestAgent.AdminToken}",
                     $"--MeterAgent:Upstreams:openai:ApiKey={TestAgent.UpstreamKey}",
                     $"--ReverseProxy:Clusters:openai:Destinations:primary:Address={upstreamUrl}",
                     $"--Store:Path={databasePath}",
                     "--Logging:LogLevel:Default=Warning",
                     "--MeterAgent:Headers:Request:0=x-emulator-*",
                 }.Concat(extraSettings))
        {
            start.ArgumentList.Add(setting);
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException("could not start dotnet");
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var agent = new AgentProcess(process, proxyPort, managementPort);
        await agent.WaitReadyAsync();
        return agent;
    }

    public HttpClient AdminClient()
    {
        var client = new HttpClient { BaseAddress = new Uri(ManagementUrl) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", TestAgent.AdminToken);
        return client;
    }

    /// <summary>SIGKILL: no shutdown hooks, no flush, as a crash.</summary>
    public void KillHard()
    {
        _process.Kill(entireProcessTree: true);
        _process.WaitForExit();
    }

    private async Task WaitReadyAsync()
    {
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (DateTime.UtcNow < deadline)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"agent exited with {_process.ExitCode} before it was ready");
            }

            try
            {
                using var response = await client.GetAsync(ManagementUrl + "healthz/ready");
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }
            catch (TaskCanceledException)
            {
                // Not answering yet.
            }

            await Task.Delay(100);
        }

        throw new TimeoutException("agent was not ready within 60 s");
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
