using System.Diagnostics;
using System.Globalization;
using MeterAgent.Ledger.Sqlite;
using MeterAgent.Ledger.Usage;
using MeterAgent.Testing;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace MeterAgent.Benchmarks;

/// <summary>
/// The store reads the web consoles make, on a store seeded by <see cref="MillionRecordStore"/>: each call by name, so
/// the BenchmarkDotNet class (<see cref="ConsoleQueryBenchmarks"/>) and the quick timing run (<c>--console-queries N</c>)
/// time the same thing. Filters come both ways: matching almost nothing (the rare model, a rare status) and common ones.
/// </summary>
internal sealed class ConsoleQueries : IDisposable
{
    public const string OneAccount = "one-account";
    public const string Spread = "spread";

    private readonly SqliteDatabase _database;
    private readonly SqliteWriter _writer;
    private readonly SqliteUsageStore _usage;
    private readonly SqliteUsageReports _reports;
    private readonly SqliteUsageCounters _counters;
    private readonly SqliteAccountStore _accounts;
    private readonly SqliteCreditLedger _ledger;
    private readonly SqliteStatementStore _statements;

    public ConsoleQueries(SeededStore seeded)
    {
        Seeded = seeded;
        _database = new SqliteDatabase(Options.Create(new SqliteStoreOptions { Path = seeded.Path }), NullLogger<SqliteDatabase>.Instance);
        _writer = new SqliteWriter(_database, NullLogger<SqliteWriter>.Instance);
        _usage = new SqliteUsageStore(_writer, _database, TimeProvider.System, NullLogger<SqliteUsageStore>.Instance);
        _reports = new SqliteUsageReports(_database);
        _counters = new SqliteUsageCounters(_database);
        _accounts = new SqliteAccountStore(_database, TimeProvider.System);
        _ledger = new SqliteCreditLedger(_writer, _database);
        _statements = new SqliteStatementStore(_database, _writer);
    }

    public SeededStore Seeded { get; }

    /// <summary>The calls' names, in order (what the benchmark's parameter ranges over).</summary>
    public static IReadOnlyList<string> Names =>
    [
        "records: all", "records: all, after 1,000", "records: account", "records: account, common model", "records: account, rare model",
        "records: account, common status", "records: account, rare status", "records: account, unused status",
        "records: account, last 30 days", "records: account, to 80 days ago", "records: account, rare model, rare status",
        "records: common model", "records: rare model", "records: rare status", "records: unused status", "records: to 80 days ago",
        "records: common model, rare status, 30 days", "daily: account, 30 days", "daily: all accounts, 30 days", "counters: account",
        "accounts: list", "account page: account, keys, lots, policy, overage, pending", "log page: statements",
    ];

    /// <summary>Every call by name; each returns how many rows it read, so a benchmark cannot be optimised away.</summary>
    public IReadOnlyDictionary<string, Func<Task<int>>> Calls
    {
        get
        {
            var account = Seeded.AccountIds[0];
            var days30 = Seeded.To.AddDays(-30);
            var old = Seeded.From.AddDays(10);
            UsageQuery Page(string? accountId = null, string? model = null, UsageStatus? status = null, DateTimeOffset? from = null, DateTimeOffset? to = null) =>
                new(accountId, model, from, to, Limit: 50, Status: status);
            async Task<int> Query(UsageQuery query) => (await _usage.QueryAsync(query)).Count;
            return new Dictionary<string, Func<Task<int>>>(StringComparer.Ordinal)
            {
                ["records: all"] = () => Query(Page()),
                ["records: all, after 1,000"] = async () =>
                {
                    var before = (await _usage.QueryAsync(new UsageQuery(Limit: 1000)))[^1].Id;
                    var page = await _usage.QueryAsync(Page() with { Before = before });
                    return page.Count;
                },
                ["records: account"] = () => Query(Page(account)),
                ["records: account, common model"] = () => Query(Page(account, Seeded.Models[0])),
                ["records: account, rare model"] = () => Query(Page(account, Seeded.RareModel)),
                ["records: account, common status"] = () => Query(Page(account, status: UsageStatus.Completed)),
                ["records: account, rare status"] = () => Query(Page(account, status: UsageStatus.Rejected)),
                ["records: account, unused status"] = () => Query(Page(account, status: UsageStatus.Interrupted)),
                ["records: account, last 30 days"] = () => Query(Page(account, from: days30)),
                ["records: account, to 80 days ago"] = () => Query(Page(account, to: old)),
                ["records: account, rare model, rare status"] = () => Query(Page(account, Seeded.RareModel, UsageStatus.UpstreamFailed)),
                ["records: common model"] = () => Query(Page(model: Seeded.Models[1])),
                ["records: rare model"] = () => Query(Page(model: Seeded.RareModel)),
                ["records: rare status"] = () => Query(Page(status: UsageStatus.Rejected)),
                ["records: unused status"] = () => Query(Page(status: UsageStatus.Interrupted)),
                ["records: to 80 days ago"] = () => Query(Page(to: old)),
                ["records: common model, rare status, 30 days"] = () => Query(Page(model: Seeded.Models[2], status: UsageStatus.UpstreamFailed, from: days30)),
                ["daily: account, 30 days"] = async () => (await _reports.DailyAsync(account, days30, Seeded.To)).Count,
                ["daily: all accounts, 30 days"] = async () => (await _reports.DailyAsync(null, days30, Seeded.To)).Count,
                ["counters: account"] = async () => (await _counters.ReadAsync(account)).Count,
                ["accounts: list"] = async () => (await _accounts.ListAccountsAsync()).Count,
                ["account page: account, keys, lots, policy, overage, pending"] = async () =>
                {
                    var found = await _accounts.GetAccountAsync(account);
                    var keys = await _accounts.ListKeysAsync(account);
                    var lots = await _ledger.GetLotsAsync(account);
                    var policy = await _ledger.GetPolicyAsync(account);
                    var overage = await _ledger.GetOverageMicroAsync(account);
                    var pending = await _ledger.GetPendingReservationsAsync(account, 50);
                    GC.KeepAlive(policy);
                    return (found is null ? 0 : 1) + keys.Count + lots.Count + pending.Count + (overage > 0 ? 1 : 0);
                },
                ["log page: statements"] = async () => (await _statements.ListAsync(0, 50)).Count,
            };
        }
    }

    /// <summary>A seeded store for this shape and size, made once and kept in the temp folder (<see cref="MillionRecordStore.SeedOrReuse"/>).</summary>
    public static SeededStore Seed(string shape, int records) =>
        MillionRecordStore.SeedOrReuse(shape, records, shape == OneAccount ? SeedShape.OneAccount : SeedShape.Spread);

    /// <summary>`--console-queries N`: seeds (or reuses) both shapes and prints each call's median over 20 runs.</summary>
    public static async Task RunAsync(int records)
    {
        foreach (var shape in new[] { OneAccount, Spread })
        {
            var clock = Stopwatch.StartNew();
            var seeded = Seed(shape, records);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"## {shape}: {records:N0} records (seeded or reused in {clock.Elapsed.TotalSeconds:F1} s, seeding took {seeded.Elapsed.TotalSeconds:F1} s)"));
            using var queries = new ConsoleQueries(seeded);
            foreach (var name in Names)
            {
                var call = queries.Calls[name];
                var rows = 0;
                for (var i = 0; i < 2; i++)
                {
                    rows = await call();
                }

                var times = new double[Math.Max(3, 20)];
                for (var i = 0; i < times.Length; i++)
                {
                    var one = Stopwatch.StartNew();
                    await call();
                    times[i] = one.Elapsed.TotalMilliseconds;
                    if (i == 2 && times.Take(3).Min() > 300)
                    {
                        Array.Resize(ref times, 3);
                        break;
                    }
                }

                Array.Sort(times);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {name} | {times[times.Length / 2]:F2} ms | max {times[^1]:F2} ms | {rows} rows |"));
            }
        }
    }

    public void Dispose()
    {
        _writer.Dispose();
        _database.Dispose();
    }
}
