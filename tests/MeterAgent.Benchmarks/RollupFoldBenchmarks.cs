using BenchmarkDotNet.Attributes;
using MeterAgent.Ledger.Sqlite;
using MeterAgent.Ledger.Usage;
using MeterAgent.Testing;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace MeterAgent.Benchmarks;

/// <summary>
/// One fold of the usage rollups (<see cref="UsageRollupService"/>'s write) over <see cref="Rows"/> records closed
/// since the last, on a temp file with the shipped settings: what the writer spends, in one go, every 100 ms under
/// load. The records spread over a few accounts and models like a provider's traffic; each iteration closes a fresh
/// <see cref="Rows"/> first (not measured), so every fold has exactly that many rows to pass.
/// </summary>
[MemoryDiagnoser]
public class RollupFoldBenchmarks : IDisposable
{
    private static readonly string[] Models = ["gpt-4o-mini", "gpt-4o", "claude-sonnet"];

    private TempFolder? _folder;
    private SqliteDatabase? _database;
    private SqliteWriter? _writer;
    private SqliteUsageStore? _usage;
    private string[] _accounts = [];
    private int _next;

    [Params(50, 200)]
    public int Rows { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _folder = new TempFolder("meteragent-fold-");
        // No close gathering: a fold is committed at once, so the time is the fold's own and its commit's, not the window's.
        var options = Options.Create(new SqliteStoreOptions { Path = _folder.File("fold.db"), CloseGatherTime = TimeSpan.Zero });
        _database = new SqliteDatabase(options, NullLogger<SqliteDatabase>.Instance);
        _writer = new SqliteWriter(_database, NullLogger<SqliteWriter>.Instance);
        _usage = new SqliteUsageStore(_writer, _database, TimeProvider.System, NullLogger<SqliteUsageStore>.Instance);
        var accounts = new SqliteAccountStore(_database, TimeProvider.System);
        _accounts = [.. Enumerable.Range(0, 4).Select(i => accounts.CreateAccountAsync($"fold-{i}").GetAwaiter().GetResult().Id)];

        // Fail here, not in a silent benchmark: a fold must pass exactly the rows closed since the last.
        CloseRows();
        var passed = Fold();
        if (passed != Rows)
        {
            throw new InvalidOperationException($"The probe fold passed {passed} rows, not {Rows}.");
        }
    }

    [IterationSetup]
    public void CloseRows()
    {
        var closes = new Task[Rows];
        for (var i = 0; i < Rows; i++)
        {
            closes[i] = _usage!.CloseAsync(NewClosedRecord(_next++)).AsTask();
        }

        Task.WaitAll(closes);
    }

    [Benchmark]
    public long Fold() => _writer!.SubmitAsync(new RollupFoldWrite(Rows), CancellationToken.None).GetAwaiter().GetResult();

    private UsageRecord NewClosedRecord(int n)
    {
        var now = DateTimeOffset.UtcNow;
        return new UsageRecord
        {
            Id = Guid.CreateVersion7().ToString(),
            AccountId = _accounts[n % _accounts.Length],
            KeyId = "key-fold",
            Surface = "openai.chat_completions",
            RouteId = "openai-chat",
            ClusterId = "openai",
            RequestedModel = Models[n % Models.Length],
            ServedModel = Models[n % Models.Length],
            StartedAt = now,
            FirstTokenAt = now,
            EndedAt = now,
            Status = UsageStatus.Completed,
            HttpStatus = 200,
            NativeReported = true,
            Quality = "native",
            NativeInputTokens = 23,
            NativeOutputTokens = 16,
            ReferenceInputTokens = 23,
            ReferenceOutputTokens = 16,
            ReferenceTokenizer = "o200k_base",
        };
    }

    [GlobalCleanup]
    public void Dispose()
    {
        _writer?.Dispose();
        _database?.Dispose();
        _folder?.Dispose();
        GC.SuppressFinalize(this);
    }
}
