using BenchmarkDotNet.Running;

// Every benchmark class is selectable with --filter; add --job short for a quick run (docs/benchmarks.md).
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
