using BenchmarkDotNet.Attributes;
using MeterAgent.Attestation.Entries;
using MeterAgent.Attestation.Merkle;
using MeterAgent.Ledger.Sqlite;
using MeterAgent.Ledger.Usage;
using MeterAgent.Testing;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace MeterAgent.Benchmarks;

/// <summary>
/// The usage log (issue 8): appending closed records' entries to the embedded store in the agent's batches of 128,
/// appending their leaves to the in-memory Merkle tree, and proving one leaf of a million-leaf tree.
/// </summary>
[MemoryDiagnoser]
public class LogBenchmarks : IDisposable
{
    private const int Batch = 128;
    private const int Batches = 100;
    private const int TreeSize = 1_000_000;

    private TempFolder? _folder;
    private SqliteDatabase? _database;
    private SqliteWriter? _writer;
    private SqliteUsageLog? _log;
    private byte[][] _entries = [];
    private MerkleLog _growing = new(new InMemoryHashStore());
    private MerkleLog _million = new(new InMemoryHashStore());
    private int _leaf;

    [GlobalSetup]
    public void Setup()
    {
        _folder = new TempFolder("meteragent-logbench-");
        _database = new SqliteDatabase(Options.Create(new SqliteStoreOptions { Path = _folder.File("bench.db") }), NullLogger<SqliteDatabase>.Instance);
        _writer = new SqliteWriter(_database, NullLogger<SqliteWriter>.Instance);
        _log = new SqliteUsageLog(_database, _writer);

        var now = DateTimeOffset.UtcNow;
        _entries = [.. Enumerable.Range(0, Batch * Batches).Select(_ => UsageEntryEncoding.Encode(LogEntrySql.ToEntry(LogRecords.Closed("acct-bench", now))))];
        for (var i = 0; i < TreeSize; i++)
        {
            _million.Append(_entries[i % _entries.Length]);
        }
    }

    [GlobalCleanup]
    public void Dispose()
    {
        _writer?.Dispose();
        _database?.Dispose();
        _folder?.Dispose();

        GC.SuppressFinalize(this);
    }

    [Benchmark(OperationsPerInvoke = Batch * Batches, Description = "Store: append closed records' entries, batches of 128, per entry")]
    public async Task AppendToStore()
    {
        var now = DateTimeOffset.UtcNow;
        for (var b = 0; b < Batches; b++)
        {
            var batch = new UsageRecord[Batch];
            for (var i = 0; i < Batch; i++)
            {
                batch[i] = LogRecords.Closed("acct-bench", now);
            }

            await _log!.AppendAsync(batch);
        }
    }

    [Benchmark(OperationsPerInvoke = Batch * Batches, Description = "Merkle tree: append a leaf, per entry")]
    public void AppendToTree()
    {
        foreach (var entry in _entries)
        {
            _growing.Append(entry);
        }
    }

    [Benchmark(Description = "Inclusion proof of one leaf in a 1,000,000-leaf tree")]
    public byte[] InclusionProof() => _million.InclusionProof((_leaf = (_leaf + 7919) % TreeSize), TreeSize);

    [Benchmark(Description = "Consistency proof between two sizes of a 1,000,000-leaf tree")]
    public byte[] ConsistencyProof() => _million.ConsistencyProof(TreeSize / 3 + (_leaf = (_leaf + 7919) % 1000), TreeSize);
}
