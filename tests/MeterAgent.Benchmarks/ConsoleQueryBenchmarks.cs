using BenchmarkDotNet.Attributes;

namespace MeterAgent.Benchmarks;

/// <summary>
/// Each store read the web consoles make (<see cref="ConsoleQueries"/>) at <see cref="Records"/> usage records, on both
/// shapes: all in one account, and spread over 1,000 accounts and 5 models over 90 days. The seeded files are kept in
/// the temp folder between runs. Target: each call well under 100 ms (the page adds its rendering; issue 13's 200 ms).
/// </summary>
public class ConsoleQueryBenchmarks : IDisposable
{
    public const int Records = 1_000_000;

    private ConsoleQueries? _queries;
    private Func<Task<int>> _call = () => Task.FromResult(0);

    [Params(ConsoleQueries.OneAccount, ConsoleQueries.Spread)]
    public string Shape { get; set; } = ConsoleQueries.OneAccount;

    [ParamsSource(nameof(CallNames))]
    public string Call { get; set; } = "";

    public static IEnumerable<string> CallNames => ConsoleQueries.Names;

    [GlobalSetup]
    public void Setup()
    {
        _queries = new ConsoleQueries(ConsoleQueries.Seed(Shape, Records));
        _call = _queries.Calls[Call];
    }

    [Benchmark]
    public Task<int> Read() => _call();

    [GlobalCleanup]
    public void Dispose()
    {
        _queries?.Dispose();
        GC.SuppressFinalize(this);
    }
}
