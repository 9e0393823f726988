using System.Globalization;

namespace MeterAgent.LoadHarness;

/// <summary>Command line: --duration S --warmup S --prewarm S --concurrency 1,32 --scenarios small,stream --targets LIST --out FILE.</summary>
internal sealed record HarnessOptions(
    TimeSpan Duration,
    TimeSpan Warmup,
    IReadOnlyList<int> Concurrency,
    IReadOnlyList<ScenarioKind> Scenarios,
    IReadOnlyList<TargetKind> Targets,
    string OutputPath,
    bool AllocationTypes = false,
    TimeSpan Prewarm = default)
{
    // Ignored by git (BenchmarkDotNet's folder), so a run never dirties the tree; a chosen run is copied into docs by hand.
    public const string DefaultOutput = "BenchmarkDotNet.Artifacts/load-harness/results.md";

    public const string Usage = """
        MeterAgent load harness: direct to the emulator, bare YARP, MeterAgent and MeterAgent with credits, side by
        side on loopback.
          --duration SECONDS     measured time per cell run (default 10)
          --warmup SECONDS       warm-up before each cell run, not measured (default 2)
          --prewarm SECONDS      once, before the first cell: each target under load for this long, not measured
                                 (default 12; the first scenario at the highest concurrency), so no target's first
                                 cell still runs code the JIT has not yet optimised (MeterAgent needs ~10 s of load)
          --concurrency LIST     concurrent workers, comma-separated (default 1,32)
          --scenarios LIST       small, stream (default small,stream)
          --targets LIST         direct, yarp, agent, agent-credits, agent-redis (default the first four); run in this
                                 order, then reversed. agent-redis: credits on with Store:Kind=redis against a
                                 redis-server the harness starts on loopback (Debian's redis-server on PATH); the report
                                 then adds Redis commands per proxied request from INFO commandstats
          --out FILE             Markdown report (default BenchmarkDotNet.Artifacts/load-harness/results.md)
          --alloc-types          also print each cell's allocation per request by type (sampled GC AllocationTick
                                 events; the generator's share is in every cell, so compare with the direct cell)
        """ + "\n" + ConsolePages.Usage;

    public static HarnessOptions Parse(string[] args)
    {
        var duration = TimeSpan.FromSeconds(10);
        var warmup = TimeSpan.FromSeconds(2);
        var prewarm = TimeSpan.FromSeconds(12);
        IReadOnlyList<int> concurrency = [1, 32];
        IReadOnlyList<ScenarioKind> scenarios = [ScenarioKind.Small, ScenarioKind.Stream];
        IReadOnlyList<TargetKind> targets = [.. TargetNames.All.Select(t => t.Kind).Where(k => k != TargetKind.MeterAgentRedisCredits)];
        var output = DefaultOutput;
        var allocationTypes = false;

        for (var i = 0; i < args.Length; i++)
        {
            var name = args[i];
            string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{name} needs a value.");
            switch (name)
            {
                case "--duration":
                    duration = Seconds(name, Value(), min: 0.5);
                    break;
                case "--warmup":
                    warmup = Seconds(name, Value(), min: 0);
                    break;
                case "--prewarm":
                    prewarm = Seconds(name, Value(), min: 0);
                    break;
                case "--concurrency":
                    concurrency = [.. Value().Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(c =>
                        int.TryParse(c, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n is >= 1 and <= 1024
                            ? n
                            : throw new ArgumentException($"--concurrency: '{c}' is not a count from 1 to 1024."))];
                    break;
                case "--scenarios":
                    scenarios = [.. Value().Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(s =>
                        Enum.TryParse<ScenarioKind>(s, ignoreCase: true, out var kind) && Enum.IsDefined(kind)
                            ? kind
                            : throw new ArgumentException($"--scenarios: '{s}' is not one of small, stream."))];
                    break;
                case "--targets":
                    var chosen = Value().Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(t =>
                        TargetNames.Find(t) ?? throw new ArgumentException($"--targets: '{t}' is not one of direct, yarp, agent, agent-credits, agent-redis.")).ToHashSet();

                    // Canonical order whatever the order given, so the interleaving is the same in every run.
                    targets = [.. TargetNames.All.Select(n => n.Kind).Where(chosen.Contains)];
                    break;
                case "--out":
                    output = Value();
                    break;
                case "--alloc-types":
                    allocationTypes = true;
                    break;
                default:
                    throw new ArgumentException($"Unknown option '{name}'.");
            }
        }

        if (concurrency.Count == 0 || scenarios.Count == 0 || targets.Count == 0)
        {
            throw new ArgumentException("--concurrency, --scenarios and --targets need at least one value.");
        }

        return new HarnessOptions(duration, warmup, concurrency, scenarios, targets, output, allocationTypes, prewarm);
    }

    private static TimeSpan Seconds(string name, string text, double min) =>
        double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var s) && s >= min && s <= 600
            ? TimeSpan.FromSeconds(s)
            : throw new ArgumentException($"{name}: '{text}' is not a number of seconds from {min} to 600.");
}
