using System.Globalization;
using BenchmarkDotNet.Running;
using MeterAgent.Benchmarks;

// `--store-cpu SECONDS` measures the store benchmarks' CPU per request in a plain loop (BenchmarkDotNet reports wall
// time only); anything else goes to BenchmarkDotNet. Every benchmark class is selectable with --filter; add --job
// short for a quick run (docs/benchmarks.md).
if (args is ["--store-cpu", var seconds])
{
    await CpuLoop.RunAsync(TimeSpan.FromSeconds(double.Parse(seconds, CultureInfo.InvariantCulture)));
    return;
}

// `--interval-close N` closes one settlement interval of N records on a temp store and times each step.
if (args is ["--interval-close", var records])
{
    await IntervalCloseRun.RunAsync(int.Parse(records, CultureInfo.InvariantCulture));
    return;
}

// `--console-queries N` seeds (or reuses) N-record stores of both shapes and times each console read once over.
if (args is ["--console-queries", var seeded])
{
    await ConsoleQueries.RunAsync(int.Parse(seeded, CultureInfo.InvariantCulture));
    return;
}

// `--alloc-sites TRACE REQUESTS` sums a gc-verbose trace's allocation samples per request (tests/perf/allocs.sh).
if (args is ["--alloc-sites", var trace, var served])
{
    AllocationSites.Print(trace, long.Parse(served, CultureInfo.InvariantCulture), Console.Out);
    return;
}

BenchmarkSwitcher.FromAssembly(typeof(LogBenchmarks).Assembly).Run(args);
