using System.Diagnostics;
using BenchmarkDotNet.Attributes;
using MeterAgent.Contracts.Deliveries;
using MeterAgent.Ledger.Credits;
using MeterAgent.Ledger.Sqlite;
using MeterAgent.Ledger.Usage;
using MeterAgent.Testing;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace MeterAgent.Benchmarks;

/// <summary>
/// The embedded store's per-request writes, on a temp file with the shipped settings (WAL, synchronous=NORMAL, group
/// commit): the write-ahead pair every metered request pays (open + close of its usage record), what credits add
/// (reserve + post on one account with one lot that never runs out), and both together as the middleware issues them.
/// Each comes sequential (one caller, so every write is its own commit) and with <see cref="Callers"/> concurrent
/// callers, reported per request (total time / requests), which is where group commit shows.
/// </summary>
[MemoryDiagnoser]
public class LedgerBenchmarks : IDisposable
{
    public const int Callers = 32;
    private const int RequestsPerCaller = 4;
    private const int ConcurrentRequests = Callers * RequestsPerCaller;
    private const string ContractId = "bench-std";

    // What the load harness's small request reserves and posts under a 1/2/2 contract: ~30 input tokens + 16 output.
    private const long EstimateMicro = 62_000_000;
    private const long ActualMicro = 52_000_000;

    private TempFolder? _folder;
    private SqliteDatabase? _database;
    private SqliteWriter? _writer;
    private SqliteUsageStore? _usage;
    private SqliteCreditLedger? _ledger;
    private Timer? _checkpoints;
    private string _accountId = "";
    private Dictionary<string, long> _estimate = [];

    [GlobalSetup]
    public void Setup()
    {
        _folder = new TempFolder("meteragent-bench-");
        var options = Options.Create(new SqliteStoreOptions { Path = _folder.File("bench.db") });
        _database = new SqliteDatabase(options, NullLogger<SqliteDatabase>.Instance);
        _writer = new SqliteWriter(_database, NullLogger<SqliteWriter>.Instance);
        _usage = new SqliteUsageStore(_writer, _database, TimeProvider.System, NullLogger<SqliteUsageStore>.Instance);
        _ledger = new SqliteCreditLedger(_writer, _database);

        // The writer leaves checkpoints to a service on its own connection (internal to the store); do the same,
        // at the shipped 1 s interval, so the WAL stays bounded as in production and the writer never checkpoints.
        var database = _database;
        _checkpoints = new Timer(_ =>
        {
            using var connection = database.OpenConnection();
            using var command = connection.CreateCommand();
            command.CommandText = "PRAGMA wal_checkpoint(PASSIVE);";
            command.ExecuteNonQuery();
        }, null, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));

        var accounts = new SqliteAccountStore(_database, TimeProvider.System);
        _accountId = accounts.CreateAccountAsync("bench").GetAwaiter().GetResult().Id;
        var now = DateTimeOffset.UtcNow;

        // 10^12 units (10^18 micro-units): no run can spend it, so every reservation draws on this one lot in full.
        var outcome = _ledger.ApplyDeliveryAsync(new DeliveryNotice(
            "dlv-bench", ContractId, 1, _accountId, 1_000_000_000_000_000_000, now.AddDays(-1), now.AddDays(30), now, new string('0', 64)), now)
            .GetAwaiter().GetResult();
        GC.KeepAlive(outcome);
        _estimate = new Dictionary<string, long>(StringComparer.Ordinal) { [ContractId] = EstimateMicro };

        // Fail here, not in a silent benchmark: the reservation must be granted from the lot.
        var probe = _ledger.ReserveAsync(Reserve(Guid.CreateVersion7().ToString())).GetAwaiter().GetResult();
        if (!probe.Granted || probe.Reservation is not { ReservedMicro: EstimateMicro })
        {
            throw new InvalidOperationException($"The probe reservation was not granted in full: {probe}");
        }
    }

    [GlobalCleanup]
    public void Dispose()
    {
        _checkpoints?.Dispose();
        _writer?.Dispose();
        _database?.Dispose();
        _folder?.Dispose();

        GC.SuppressFinalize(this);
    }

    [Benchmark(Baseline = true, Description = "Open + close usage record, sequential")]
    public Task OpenClose() => OpenCloseOnce();

    [Benchmark(Description = "Reserve + post, sequential")]
    public Task ReservePost() => ReservePostOnce();

    [Benchmark(Description = "Open + reserve, post + close (credits request), sequential")]
    public Task CreditsRequest() => CreditsRequestOnce();

    [Benchmark(OperationsPerInvoke = ConcurrentRequests, Description = "Open + close usage record, 32 callers, per request")]
    public Task OpenCloseConcurrent() => Concurrently(OpenCloseOnce);

    [Benchmark(OperationsPerInvoke = ConcurrentRequests, Description = "Reserve + post, 32 callers, per request")]
    public Task ReservePostConcurrent() => Concurrently(ReservePostOnce);

    [Benchmark(OperationsPerInvoke = ConcurrentRequests, Description = "Open + reserve, post + close (credits request), 32 callers, per request")]
    public Task CreditsRequestConcurrent() => Concurrently(CreditsRequestOnce);

    /// <summary>
    /// The benchmarks above by name, for <see cref="CpuLoop"/>; the concurrent ones run <see cref="ConcurrentRequests"/>
    /// requests per call.
    /// </summary>
    public IReadOnlyList<(string Name, int RequestsPerCall, Func<Task> Run)> All =>
    [
        ("open + close, sequential", 1, OpenClose),
        ("reserve + post, sequential", 1, ReservePost),
        ("open + reserve, post + close, sequential", 1, CreditsRequest),
        ("open + close, 32 callers", ConcurrentRequests, OpenCloseConcurrent),
        ("reserve + post, 32 callers", ConcurrentRequests, ReservePostConcurrent),
        ("open + reserve, post + close, 32 callers", ConcurrentRequests, CreditsRequestConcurrent),
    ];

    private async Task OpenCloseOnce()
    {
        var record = NewRecord();
        await _usage!.OpenAsync(record);
        Close(record);
        await _usage.CloseAsync(record);
    }

    private async Task ReservePostOnce()
    {
        var id = Guid.CreateVersion7().ToString();
        await _ledger!.ReserveAsync(Reserve(id));
        await _ledger.PostAsync(id, ActualMicro);
    }

    /// <summary>
    /// As MeteringMiddleware issues them: the open (written ahead) and the reserve before the request goes upstream;
    /// after the response, the post and the close that records its outcome, in one write (SettleAndCloseAsync).
    /// </summary>
    private async Task CreditsRequestOnce()
    {
        var record = NewRecord();
        await _usage!.OpenAsync(record);
        var outcome = await _ledger!.ReserveAsync(Reserve(record.Id));
        Close(record);
        record.ContractVersion = 1;
        record.UnitsMicro = ActualMicro;
        await _ledger.SettleAndCloseAsync(outcome.Reservation!, ActualMicro, record);
    }

    private static async Task Concurrently(Func<Task> request)
    {
        var callers = new Task[Callers];
        for (var i = 0; i < callers.Length; i++)
        {
            callers[i] = Task.Run(async () =>
            {
                for (var r = 0; r < RequestsPerCaller; r++)
                {
                    await request();
                }
            });
        }

        await Task.WhenAll(callers);
    }

    private ReserveRequest Reserve(string id)
    {
        var now = DateTimeOffset.UtcNow;
        return new ReserveRequest(id, _accountId, _estimate, now, now.AddMinutes(5));
    }

    private UsageRecord NewRecord() => new()
    {
        Id = Guid.CreateVersion7().ToString(),
        AccountId = _accountId,
        KeyId = "key-bench",
        Surface = "openai.chat_completions",
        RouteId = "openai-chat",
        ClusterId = "openai",
        RequestedModel = "gpt-4o-mini",
        StartedAt = DateTimeOffset.UtcNow,
        ReferenceInputTokens = 23,
        ReferenceTokenizer = "o200k_base",
    };

    private static void Close(UsageRecord record)
    {
        record.ServedModel = "gpt-4o-mini";
        record.FirstTokenAt = DateTimeOffset.UtcNow;
        record.EndedAt = DateTimeOffset.UtcNow;
        record.Status = UsageStatus.Completed;
        record.HttpStatus = 200;
        record.NativeReported = true;
        record.Quality = "native";
        record.NativeInputTokens = 23;
        record.NativeOutputTokens = 16;
        record.ReferenceOutputTokens = 16;
    }
}

/// <summary>
/// CPU per request, which BenchmarkDotNet does not report: a request's writes cost CPU on the caller and on the
/// writer's thread, and on the load harness's shared cores that CPU, not the wall time, is what throughput pays.
/// Runs each store benchmark in a loop for a fixed time and divides the process's CPU time by the requests.
/// </summary>
internal static class CpuLoop
{
    public static async Task RunAsync(TimeSpan perBenchmark)
    {
        using var benchmarks = new LedgerBenchmarks();
        benchmarks.Setup();
        Console.WriteLine($"| Store writes ({perBenchmark.TotalSeconds:0.#} s each after 1 s warm-up) | Requests | Wall µs/request | CPU µs/request |");
        Console.WriteLine("|---|---:|---:|---:|");
        foreach (var (name, perCall, run) in benchmarks.All)
        {
            await Loop(run, TimeSpan.FromSeconds(1));
            var process = Process.GetCurrentProcess();
            var cpu = process.TotalProcessorTime;
            var (calls, wall) = await Loop(run, perBenchmark);
            process.Refresh();
            var requests = calls * perCall;
            var cpuPer = (process.TotalProcessorTime - cpu).TotalMicroseconds / requests;
            Console.WriteLine($"| {name} | {requests} | {wall.TotalMicroseconds / requests:0.0} | {cpuPer:0.0} |");
        }
    }

    private static async Task<(long Calls, TimeSpan Wall)> Loop(Func<Task> run, TimeSpan duration)
    {
        var start = Stopwatch.GetTimestamp();
        long calls = 0;
        while (Stopwatch.GetElapsedTime(start) < duration)
        {
            await run();
            calls++;
        }

        return (calls, Stopwatch.GetElapsedTime(start));
    }
}
