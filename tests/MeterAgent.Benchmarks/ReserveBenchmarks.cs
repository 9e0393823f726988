using BenchmarkDotNet.Attributes;
using MeterAgent.Contracts.Deliveries;
using MeterAgent.Ledger.Credits;
using MeterAgent.Ledger.Sqlite;
using MeterAgent.Testing;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace MeterAgent.Benchmarks;

/// <summary>
/// A reserve on the embedded store, decided in memory by its reservation book, for an account that holds one lot whose
/// window is open and <see cref="Lots"/> − 1 whose windows have ended, as an account delivered a lot per day for a
/// while does. The book keeps every lot the account was ever delivered; a reserve must not cost more for each.
/// Every iteration starts with nothing held (the last iteration's reservations are expired in its setup, not timed).
/// </summary>
[MemoryDiagnoser]
[InvocationCount(2_000)]
public class ReserveBenchmarks : IDisposable
{
    private const string ContractId = "bench-std";
    private const long EstimateMicro = 62_000_000;

    private TempFolder? _folder;
    private SqliteDatabase? _database;
    private SqliteWriter? _writer;
    private SqliteCreditLedger? _ledger;
    private string _accountId = "";
    private Dictionary<string, long> _estimate = [];

    [Params(1, 1_000)]
    public int Lots { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _folder = new TempFolder("meteragent-bench-");
        var options = Options.Create(new SqliteStoreOptions { Path = _folder.File("bench.db") });
        _database = new SqliteDatabase(options, NullLogger<SqliteDatabase>.Instance);
        _writer = new SqliteWriter(_database, NullLogger<SqliteWriter>.Instance);
        _ledger = new SqliteCreditLedger(_writer, _database);
        _accountId = new SqliteAccountStore(_database, TimeProvider.System).CreateAccountAsync("bench").GetAwaiter().GetResult().Id;
        _estimate = new Dictionary<string, long>(StringComparer.Ordinal) { [ContractId] = EstimateMicro };

        // One lot per ended day, delivered while its day was open, then the open lot: 10^12 units each.
        var now = DateTimeOffset.UtcNow;
        for (var day = Lots - 1; day >= 0; day--)
        {
            var start = day == 0 ? now.AddDays(-1) : now.AddDays(-day - 1);
            var end = day == 0 ? now.AddDays(30) : now.AddDays(-day);
            var notice = new DeliveryNotice(
                $"dlv-bench-{day}", ContractId, 1, _accountId, 1_000_000_000_000_000_000, start, end, start, new string('0', 64));
            var outcome = _ledger.ApplyDeliveryAsync(notice, start.AddMinutes(1)).GetAwaiter().GetResult();
            if (outcome.Kind != DeliveryOutcomeKind.Applied)
            {
                throw new InvalidOperationException($"Delivery {day} was not applied: {outcome.Kind}");
            }
        }

        // Fail here, not in a silent benchmark: the reserve must be granted from the open lot.
        var probe = _ledger.ReserveAsync(Reserve()).GetAwaiter().GetResult();
        if (!probe.Granted || probe.Reservation is not { ReservedMicro: EstimateMicro } || probe.Reservation.Draws.Count != 1)
        {
            throw new InvalidOperationException($"The probe reservation was not granted from one lot: {probe}");
        }
    }

    /// <summary>Expires what the last iteration reserved, so each starts from the same holds.</summary>
    [IterationSetup]
    public void ExpireHeld() => _ledger!.ExpireAsync(DateTimeOffset.UtcNow.AddDays(1)).GetAwaiter().GetResult();

    [Benchmark(Description = "Reserve, decided in memory")]
    public Task<ReserveOutcome> ReserveOne() => _ledger!.ReserveAsync(Reserve());

    [GlobalCleanup]
    public void Dispose()
    {
        _writer?.Dispose();
        _database?.Dispose();
        _folder?.Dispose();

        GC.SuppressFinalize(this);
    }

    private ReserveRequest Reserve()
    {
        var now = DateTimeOffset.UtcNow;
        return new ReserveRequest(Guid.CreateVersion7().ToString("N"), _accountId, _estimate, now, now.AddMinutes(5));
    }
}
