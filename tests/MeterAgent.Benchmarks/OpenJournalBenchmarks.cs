using System.Buffers;
using BenchmarkDotNet.Attributes;
using FASTER.core;
using MeterAgent.Ledger.Sqlite;
using MeterAgent.Ledger.Usage;
using MeterAgent.Testing;
using Microsoft.Extensions.Logging.Abstractions;

namespace MeterAgent.Benchmarks;

/// <summary>
/// Issue 10: the write-ahead open on the request path, side by side: the store's own appender
/// (<see cref="UsageOpenJournal"/>: one thread, one write per drained batch) against <c>Microsoft.FASTER.Core</c>'s
/// <see cref="FasterLog"/> (enqueue, auto-commit, wait for the commit), each with <see cref="Callers"/> concurrent callers
/// packing and appending a small record, reported per open. (The schema-6 SQLite open is in <see cref="LedgerBenchmarks"/>'
/// history, docs/benchmarks.md.)
/// </summary>
[MemoryDiagnoser]
public class OpenJournalBenchmarks : IDisposable
{
    public const int Callers = 32;
    private const int OpensPerCaller = 16;
    private const int Opens = Callers * OpensPerCaller;

    private TempFolder? _folder;
    private UsageOpenJournal? _journal;
    private FasterLog? _fasterLog;
    private IDevice? _device;
    private UsageRecord[] _records = [];

    [GlobalSetup]
    public void Setup()
    {
        _folder = new TempFolder("meteragent-journal-bench-");
        _journal = new UsageOpenJournal(_folder.File("own.db"), new SqliteStoreOptions(), NullLogger.Instance);

        _device = Devices.CreateLogDevice(Path.Combine(_folder.Path, "faster", "log"));
        _fasterLog = new FasterLog(new FasterLogSettings
        {
            LogDevice = _device,
            LogCommitDir = _folder.File("faster"),
            AutoCommit = true,
            PageSizeBits = 20,
            MemorySizeBits = 24,
            SegmentSizeBits = 23,
        });

        _records = new UsageRecord[Opens];
        for (var i = 0; i < Opens; i++)
        {
            _records[i] = Record();
        }
    }

    [GlobalCleanup]
    public void Dispose()
    {
        _journal?.Dispose();
        _fasterLog?.Dispose();
        _device?.Dispose();
        _folder?.Dispose();

        GC.SuppressFinalize(this);
    }

    /// <remarks>
    /// Each open is acknowledged right after (as the close's commit does), so the journal's in-memory bookkeeping
    /// stays the size of the requests in flight, as in the proxy; without it every open of the run would stay in memory.
    /// </remarks>
    [Benchmark(Baseline = true, OperationsPerInvoke = Opens, Description = "own appender, 32 callers")]
    public Task OwnAppender() => Run(async (caller, i) =>
    {
        var record = _records[(caller * OpensPerCaller) + i];
        await _journal!.AppendAsync(record, CancellationToken.None);
        _journal.Acknowledge([record.Id]);
    });

    [Benchmark(OperationsPerInvoke = Opens, Description = "FasterLog, 32 callers")]
    public Task FasterLogAppend() => Run(async (caller, i) =>
    {
        // The same work as the appender's caller: pack the record, then append it and wait for its commit.
        var buffer = new ArrayBufferWriter<byte>(512);
        UsageJournalCodec.Encode(_records[(caller * OpensPerCaller) + i], buffer);
        await _fasterLog!.EnqueueAndWaitForCommitAsync(buffer.WrittenMemory);
    });

    private static async Task Run(Func<int, int, Task> open)
    {
        var callers = new Task[Callers];
        for (var c = 0; c < Callers; c++)
        {
            var caller = c;
            callers[c] = Task.Run(async () =>
            {
                for (var i = 0; i < OpensPerCaller; i++)
                {
                    await open(caller, i);
                }
            });
        }

        await Task.WhenAll(callers);
    }

    private static UsageRecord Record() => new()
    {
        Id = Guid.CreateVersion7().ToString("N"),
        AccountId = "acct_0000000000000001",
        KeyId = "key_0000000000000001",
        Surface = "openai.chat_completions",
        RouteId = "openai",
        ClusterId = "openai",
        RequestedModel = "gpt-4o-mini",
        StartedAt = DateTimeOffset.UtcNow,
        ReferenceInputTokens = 30,
        Quality = "estimated",
        ReferenceTokenizer = "o200k_base",
    };
}
