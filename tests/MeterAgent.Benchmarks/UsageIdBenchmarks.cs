using BenchmarkDotNet.Attributes;
using MeterAgent.Proxy;

namespace MeterAgent.Benchmarks;

/// <summary>
/// A request's usage id, as the proxy makes one per request: <see cref="Guid.CreateVersion7()"/> (a <c>/dev/urandom</c>
/// read per id) against <see cref="UsageIds"/> (random bits from a per-thread buffer refilled every 400 ids).
/// </summary>
[MemoryDiagnoser]
public class UsageIdBenchmarks
{
    [Benchmark(Baseline = true)]
    public string GuidCreateVersion7() => Guid.CreateVersion7().ToString("N");

    [Benchmark]
    public string BufferedUsageId() => UsageIds.Next();
}
