using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace MeterAgent.Testing;

/// <summary>One scrape job of a <see cref="RunningPrometheus"/>.</summary>
/// <param name="JobName">the job label</param>
/// <param name="Target">host:port</param>
/// <param name="BearerToken">sent as Authorization: Bearer when set</param>
public sealed record ScrapeJob(string JobName, string Target, string? BearerToken = null);

/// <summary>One rule as Prometheus loaded it (GET /api/v1/rules).</summary>
/// <param name="Group">its group</param>
/// <param name="Name">the alert's name, or the recorded series' name</param>
/// <param name="Type">alerting or recording</param>
/// <param name="Query">its expression, as Prometheus formats it</param>
public sealed record LoadedRule(string Group, string Name, string Type, string Query);

/// <summary>
/// A real Prometheus server (the prometheus binary, Debian's package) as a child process on a free loopback port, its
/// TSDB in a temp folder, scraping the given jobs every second and evaluating the given rule files every second.
/// Killed, and its folder deleted, when disposed.
/// </summary>
public sealed class RunningPrometheus : IAsyncDisposable
{
    public const string InstallHint =
        "prometheus is not on PATH: apt-get install prometheus (Debian's package brings prometheus and promtool; .ci/run installs it)";

    private readonly Process _process;
    private readonly ConcurrentQueue<string> _output;
    private readonly TempFolder _folder;

    private RunningPrometheus(Process process, ConcurrentQueue<string> output, TempFolder folder, int port)
    {
        _process = process;
        _output = output;
        _folder = folder;
        Port = port;
        Http = new HttpClient { BaseAddress = new Uri(string.Create(CultureInfo.InvariantCulture, $"http://127.0.0.1:{port}/")), Timeout = TimeSpan.FromSeconds(30) };
    }

    public int Port { get; }

    /// <summary>Prometheus's HTTP API.</summary>
    public HttpClient Http { get; }

    /// <summary>What the process wrote so far, for failure messages.</summary>
    public string Output => string.Join('\n', _output);

    /// <summary>Whether `prometheus --version` runs here.</summary>
    public static bool IsInstalled() => Executable.Runs("prometheus", "--version");

    /// <summary>Whether `promtool --version` runs here.</summary>
    public static bool PromtoolIsInstalled() => Executable.Runs("promtool", "--version");

    /// <param name="jobs">what to scrape, every second</param>
    /// <param name="ruleFiles">rule files to load and evaluate every second</param>
    /// <param name="scrapeItself">also scrape Prometheus's own /metrics as job "prometheus"</param>
    public static async Task<RunningPrometheus> StartAsync(IReadOnlyList<ScrapeJob>? jobs = null, IReadOnlyList<string>? ruleFiles = null, bool scrapeItself = false)
    {
        var folder = new TempFolder("meteragent-prometheus-");
        var port = FreePort.Next();
        var allJobs = new List<ScrapeJob>(jobs ?? []);
        if (scrapeItself)
        {
            allJobs.Add(new ScrapeJob("prometheus", string.Create(CultureInfo.InvariantCulture, $"127.0.0.1:{port}")));
        }

        var config = folder.Write("prometheus.yml", Config(allJobs, ruleFiles ?? []));
        var start = new ProcessStartInfo("prometheus")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = folder.Path,
        };
        start.ArgumentList.Add($"--config.file={config}");
        start.ArgumentList.Add($"--storage.tsdb.path={folder.File("data")}");
        start.ArgumentList.Add(string.Create(CultureInfo.InvariantCulture, $"--web.listen-address=127.0.0.1:{port}"));
        start.ArgumentList.Add("--log.level=warn");

        var output = new ConcurrentQueue<string>();
        var process = Process.Start(start) ?? throw new InvalidOperationException("could not start prometheus");
        process.OutputDataReceived += (_, line) => Keep(output, line.Data);
        process.ErrorDataReceived += (_, line) => Keep(output, line.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var prometheus = new RunningPrometheus(process, output, folder, port);
        try
        {
            await prometheus.WaitReadyAsync();
        }
        catch
        {
            await prometheus.DisposeAsync();
            throw;
        }

        return prometheus;
    }

    /// <summary>GET /api/v1/query: the instant vector (or scalar) <paramref name="expression"/> gives now.</summary>
    /// <exception cref="Xunit.Sdk.XunitException">Prometheus refused the expression (its error says why)</exception>
    public async Task<IReadOnlyList<JsonElement>> QueryAsync(string expression)
    {
        var data = await GetDataAsync("api/v1/query?query=" + Uri.EscapeDataString(expression), expression);
        var result = data.GetProperty("result");
        return data.GetProperty("resultType").GetString() switch
        {
            "vector" or "matrix" => result.EnumerateArray().ToList(),
            _ => [result], // scalar or string: one value
        };
    }

    /// <summary>GET /api/v1/label/{label}/values with match[]: the values <paramref name="label"/> takes in the series <paramref name="selector"/> selects.</summary>
    public async Task<IReadOnlyList<string>> LabelValuesAsync(string label, string selector)
    {
        var data = await GetDataAsync($"api/v1/label/{Uri.EscapeDataString(label)}/values?match[]={Uri.EscapeDataString(selector)}", selector);
        return data.EnumerateArray().Select(v => v.GetString() ?? "").ToList();
    }

    /// <summary>GET /api/v1/rules: every rule of the loaded rule files.</summary>
    public async Task<IReadOnlyList<LoadedRule>> RulesAsync()
    {
        var data = await GetDataAsync("api/v1/rules", "rules");
        return data.GetProperty("groups").EnumerateArray().SelectMany(group => group.GetProperty("rules").EnumerateArray().Select(rule => new LoadedRule(
            group.GetProperty("name").GetString() ?? "",
            rule.GetProperty("name").GetString() ?? "",
            rule.GetProperty("type").GetString() ?? "",
            rule.GetProperty("query").GetString() ?? ""))).ToList();
    }

    /// <summary>GET /api/v1/targets: each active target's job, health and last error, for failure messages.</summary>
    public async Task<string> TargetsAsync()
    {
        var data = await GetDataAsync("api/v1/targets", "targets");
        return string.Join("; ", data.GetProperty("activeTargets").EnumerateArray().Select(t =>
            $"{t.GetProperty("labels").GetProperty("job").GetString()} {t.GetProperty("scrapeUrl").GetString()}: {t.GetProperty("health").GetString()} {t.GetProperty("lastError").GetString()}"));
    }

    private async Task<JsonElement> GetDataAsync(string pathAndQuery, string what)
    {
        using var response = await Http.GetAsync(new Uri(pathAndQuery, UriKind.Relative));
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        if (!response.IsSuccessStatusCode || body.GetProperty("status").GetString() != "success")
        {
            throw new Xunit.Sdk.XunitException($"Prometheus answered {(int)response.StatusCode} to {what}: {body}");
        }

        return body.GetProperty("data");
    }

    private static string Config(IReadOnlyList<ScrapeJob> jobs, IReadOnlyList<string> ruleFiles)
    {
        var yaml = new StringBuilder();
        yaml.Append("global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\n");
        yaml.Append("rule_files:").Append(ruleFiles.Count == 0 ? " []\n" : "\n");
        foreach (var file in ruleFiles)
        {
            yaml.Append("  - ").Append(JsonSerializer.Serialize(file)).Append('\n');
        }

        yaml.Append("scrape_configs:").Append(jobs.Count == 0 ? " []\n" : "\n");
        foreach (var job in jobs)
        {
            yaml.Append("  - job_name: ").Append(JsonSerializer.Serialize(job.JobName)).Append('\n');
            if (job.BearerToken is not null)
            {
                yaml.Append("    authorization:\n      type: Bearer\n      credentials: ").Append(JsonSerializer.Serialize(job.BearerToken)).Append('\n');
            }

            yaml.Append("    static_configs:\n      - targets: [").Append(JsonSerializer.Serialize(job.Target)).Append("]\n");
        }

        return yaml.ToString();
    }

    private async Task WaitReadyAsync()
    {
        await Eventually.TrueAsync(
            async () =>
            {
                if (_process.HasExited)
                {
                    throw new InvalidOperationException($"prometheus exited with {_process.ExitCode} before it was ready:\n{Output}");
                }

                try
                {
                    using var response = await Http.GetAsync(new Uri("-/ready", UriKind.Relative));
                    return response.IsSuccessStatusCode;
                }
                catch (HttpRequestException)
                {
                    return false; // Not listening yet.
                }
                catch (TaskCanceledException)
                {
                    return false;
                }
            },
            "prometheus ready (/-/ready)");
    }

    private static void Keep(ConcurrentQueue<string> output, string? line)
    {
        if (line is not null && output.Count < 10_000)
        {
            output.Enqueue(line);
        }
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
        _folder.Dispose();
    }
}
