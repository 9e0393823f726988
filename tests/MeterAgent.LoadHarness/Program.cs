using System.Diagnostics;
using System.Globalization;
using System.Net;
using MeterAgent.LoadHarness;

// `--console-pages N [--out FILE]`: the web console's pages on an N-record store instead of the load run.
if (args is ["--console-pages", var pageRecords, .. var pageRest])
{
    if (!int.TryParse(pageRecords, NumberStyles.None, CultureInfo.InvariantCulture, out var records) || records < 1
        || pageRest is not ([] or ["--out", _]))
    {
        Console.Error.WriteLine(HarnessOptions.Usage);
        return 2;
    }

    return await ConsolePages.RunAsync(records, pageRest is [_, var file] ? file : ConsolePages.DefaultOutput);
}

HarnessOptions options;
try
{
    options = HarnessOptions.Parse(args);
}
catch (ArgumentException ex)
{
    Console.Error.WriteLine(ex.Message);
    Console.Error.WriteLine(HarnessOptions.Usage);
    return 2;
}

// Mirrored (e.g. direct, YARP, agent, agent + credits, agent + credits, agent, YARP, direct): every target gets one run
// early and one late, so drift in the shared machine's load is spread over all of them alike.
TargetKind[] order = [.. options.Targets, .. options.Targets.Reverse()];
var cells = options.Scenarios.Count * options.Concurrency.Count * order.Length;
var planned = cells * (options.Warmup + options.Duration) + options.Targets.Count * options.Prewarm;

// Everything is bounded: past twice the plan (plus start-up) the run is cancelled, and a minute after that the process ends.
var budget = planned * 2 + TimeSpan.FromSeconds(60);
using var stop = new CancellationTokenSource(budget);
using var watchdog = new Timer(_ =>
{
    Console.Error.WriteLine($"Load harness exceeded its time budget ({budget}); exiting.");
    Environment.Exit(3);
}, null, budget + TimeSpan.FromSeconds(60), Timeout.InfiniteTimeSpan);

Console.Error.WriteLine($"{cells} cell runs, about {planned.TotalMinutes:0.0} min; budget {budget.TotalMinutes:0.0} min.");
var total = Stopwatch.StartNew();
await using var servers = await Servers.StartAsync(options.Targets, stop.Token);

using var handler = new SocketsHttpHandler
{
    MaxConnectionsPerServer = int.MaxValue,
    PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
    AutomaticDecompression = DecompressionMethods.None,
    UseProxy = false,
    UseCookies = false,
};
using var client = new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(30) };
using var sampler = options.AllocationTypes ? new AllocationSampler() : null;
var generator = new LoadGenerator(client, sampler);

// Each target's code paths under load once before any cell: a process's first seconds of load run code the tiered JIT
// has not optimised yet (MeterAgent's throughput rose threefold over its first ~12 s at concurrency 32), which a cell's
// short warm-up left in the first cell's measured window, biasing the ratios against the first target measured.
if (options.Prewarm > TimeSpan.Zero)
{
    foreach (var targetKind in options.Targets)
    {
        await generator.PrewarmAsync(servers.Targets.Single(t => t.Kind == targetKind), Scenario.Create(options.Scenarios[0]),
            options.Concurrency.Max(), options.Prewarm, stop.Token);
    }
}

var runs = new List<CellRun>();
foreach (var kind in options.Scenarios)
{
    var scenario = Scenario.Create(kind);
    foreach (var concurrency in options.Concurrency)
    {
        foreach (var targetKind in order)
        {
            var target = servers.Targets.Single(t => t.Kind == targetKind);
            var run = await generator.RunCellAsync(target, scenario, concurrency, options.Warmup, options.Duration, stop.Token);
            runs.Add(run);
            Console.Error.WriteLine($"{kind,-6} c={concurrency,-3} {TargetNames.Short(targetKind),-13} {run.Requests,8} req {run.Throughput,8:0} req/s  errors {run.Errors}");
        }
    }
}

var report = Report.Render(options, runs, total.Elapsed);
if (servers.Redis is { } redis)
{
    report += await RedisRoundTrips.MeasureAsync(client, servers.Targets.Single(t => t.Kind == TargetKind.MeterAgentRedisCredits), redis, stop.Token);
}

Console.WriteLine(report);
var directory = Path.GetDirectoryName(Path.GetFullPath(options.OutputPath));
if (directory is not null)
{
    Directory.CreateDirectory(directory);
}

await File.WriteAllTextAsync(options.OutputPath, report);
Console.Error.WriteLine($"Report written to {Path.GetFullPath(options.OutputPath)}");
return runs.Any(r => r.Errors > 0) ? 1 : 0;
