using System.Diagnostics;
using System.Globalization;
using MeterAgent.Attestation.Entries;
using MeterAgent.Attestation.Merkle;
using MeterAgent.Attestation.Notes;
using MeterAgent.Attestation.Statements;
using MeterAgent.Contracts.Specs;
using MeterAgent.Ledger.Sqlite;
using MeterAgent.Ledger.Usage;
using MeterAgent.Log;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace MeterAgent.Benchmarks;

/// <summary>
/// `--interval-close N`: one settlement interval of N credited records, end to end on a temp store. It times the
/// store's append of N entries (the appender's path, batches of 128, as appends per second), the Merkle tree built
/// from them (what a start-up catch-up costs), and the agent's own <see cref="StatementPass"/> closing the interval:
/// the leaves read, decoded and summed, the statement written and signed, and stored. One timed run, not a
/// BenchmarkDotNet job: a 10-second operation needs no statistics to say whether it is under 10 s.
/// </summary>
internal static class IntervalCloseRun
{
    private static readonly TimeSpan Interval = TimeSpan.FromMinutes(15);

    public static async Task RunAsync(int records)
    {
        var directory = Directory.CreateTempSubdirectory("meteragent-interval-").FullName;
        try
        {
            using var database = new SqliteDatabase(Options.Create(new SqliteStoreOptions { Path = Path.Combine(directory, "bench.db") }), NullLogger<SqliteDatabase>.Instance);
            using var writer = new SqliteWriter(database, NullLogger<SqliteWriter>.Instance);
            var log = new SqliteUsageLog(database, writer);
            var statements = new SqliteStatementStore(database, writer);

            var start = StatementPass.IntervalStart(DateTimeOffset.UtcNow.AddDays(-1), Interval);
            var step = Interval / records;
            var clock = Stopwatch.StartNew();
            for (var done = 0; done < records;)
            {
                var batch = new UsageRecord[Math.Min(128, records - done)];
                for (var i = 0; i < batch.Length; i++, done++)
                {
                    batch[i] = LogRecords.Closed($"acct-{done % 50:D2}", start + (step * done));
                }

                await log.AppendAsync(batch);
            }

            Report("append to the store (batches of 128)", clock.Elapsed, records);

            clock.Restart();
            var tree = new MerkleLog(new InMemoryHashStore());
            for (long from = 0; from < records;)
            {
                var entries = await log.ReadAsync(from, 10_000);
                foreach (var entry in entries)
                {
                    tree.Append(entry);
                }

                from += entries.Count;
            }

            var root = new byte[32];
            tree.RootHash(tree.Size, root);
            Report("build the Merkle tree from the store", clock.Elapsed, records);

            var key = NoteKeyPair.Generate("bench.meteragent/log");
            var catalog = new ContractCatalog([new ContractSpec
            {
                Id = LogRecords.ContractId,
                Version = 1,
                EligibleModels = ["*"],
                Basis = UnitBasis.Reference,
                Weights = new TokenWeights(1, 0.1m, 1.25m, 2, 2),
                DeliveryStart = start.AddDays(-30),
                DeliveryEnd = start.AddDays(30),
                SettlementInterval = Interval,
            }]);
            var options = Options.Create(new LogOptions());
            var pass = new StatementPass(statements, log, catalog, new FixedClock(start + Interval + options.Value.StatementGrace), options, NullLogger<StatementPass>.Instance);

            clock.Restart();
            var closed = await pass.RunAsync((_, _) => Task.FromResult((tree.Size, root)), NoteSigner.Parse(key.SignerKey), CancellationToken.None);
            var elapsed = clock.Elapsed;
            var envelope = await statements.GetEnvelopeAsync(closed.Single().Sequence) ?? throw new InvalidOperationException("no statement stored");
            Report("close the interval (read, sum, sign, store)", elapsed, records);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"statement envelope: {envelope.Length / 1048576.0:F1} MiB for {records:N0} records"));

            // Where the close's time goes, step by step (each again, alone).
            clock.Restart();
            var leaves = await statements.LeavesAsync(LogRecords.ContractId, start, start + Interval, tree.Size);
            Report("  of which: read the interval's leaves", clock.Elapsed, records);
            clock.Restart();
            var decoded = leaves.Select(l => UsageEntryEncoding.Decode(l.Entry)).ToList();
            Report("  of which: decode the entries", clock.Elapsed, records);
            clock.Restart();
            var totals = StatementTotals.Sum(decoded);
            Report("  of which: sum per account", clock.Elapsed, records);
            var statement = StatementFormat.Read(Dsse.Open(envelope, Dsse.InTotoPayloadType, key.VerifierKey, (_, _) => true).Payload!);
            clock.Restart();
            var signed = StatementEnvelope.Sign(statement with { Accounts = totals }, NoteSigner.Parse(key.SignerKey));
            Report("  of which: write the JSON and sign the envelope", clock.Elapsed, records);
            GC.KeepAlive(signed);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    private static void Report(string what, TimeSpan elapsed, int records) =>
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{what}: {elapsed.TotalSeconds:F2} s, {records / elapsed.TotalSeconds:N0} records/s"));

    private sealed class FixedClock(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }
}
