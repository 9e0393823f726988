using System.Security.Cryptography;
using MeterAgent.Attestation.Notes;
using MeterAgent.Attestation.Statements;
using MeterAgent.Contracts.Specs;
using MeterAgent.Ledger.Sqlite;
using MeterAgent.Ledger.Usage;
using MeterAgent.Log;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace MeterAgent.Tests.Log;

/// <summary>
/// The closing rules on a real store with a hand-moved clock: which intervals close when, empty ones included; late
/// leaves in corrections that amend the interval's latest statement; one chain; a restarted closer counts nothing twice.
/// </summary>
public sealed class StatementPassTests : IAsyncDisposable
{
    private const string Contract = "c-15m";
    private static readonly TimeSpan Interval = TimeSpan.FromMinutes(15);
    private static readonly TimeSpan Grace = TimeSpan.FromMinutes(2);
    private static readonly DateTimeOffset T0 = new(2026, 3, 2, 9, 0, 0, TimeSpan.Zero);

    private readonly TempFolder _folder = new("meteragent-pass-");
    private readonly SqliteDatabase _database;
    private readonly SqliteWriter _writer;
    private readonly SqliteUsageLog _log;
    private readonly SqliteStatementStore _statements;
    private readonly ManualClock _clock = new(T0);
    private readonly NoteKeyPair _key = NoteKeyPair.Generate("meteragent.test/log");
    private long _size;

    public StatementPassTests()
    {
        _database = new SqliteDatabase(Options.Create(new SqliteStoreOptions { Path = _folder.DbPath }), NullLogger<SqliteDatabase>.Instance);
        _writer = new SqliteWriter(_database, NullLogger<SqliteWriter>.Instance);
        _log = new SqliteUsageLog(_database, _writer);
        _statements = new SqliteStatementStore(_database, _writer);
    }

    public async ValueTask DisposeAsync()
    {
        _writer.Dispose();
        _database.Dispose();
        _folder.Dispose();
        await Task.CompletedTask;
    }

    private StatementPass NewPass() => new(_statements, _log,
        new ContractCatalog([new ContractSpec
        {
            Id = Contract,
            Version = 1,
            EligibleModels = ["*"],
            Basis = UnitBasis.Reference,
            Weights = new TokenWeights(1, 0, 0, 2, 2),
            DeliveryStart = T0.AddDays(-30),
            DeliveryEnd = T0.AddDays(30),
            SettlementInterval = Interval,
        }]),
        _clock, Options.Create(new LogOptions { StatementGrace = Grace }), NullLogger<StatementPass>.Instance);

    private async Task AppendAsync(string? contract, DateTimeOffset started, long units = 3_000_000)
    {
        await _log.AppendAsync([new UsageRecord
        {
            Id = Guid.CreateVersion7(started).ToString("N"),
            AccountId = "acct_1",
            KeyId = "key_1",
            Surface = "openai.chat_completions",
            StartedAt = started,
            EndedAt = started.AddSeconds(1),
            Status = UsageStatus.Completed,
            ReferenceInputTokens = 10,
            ReferenceOutputTokens = 5,
            ContractId = contract,
            ContractVersion = contract is null ? null : 1,
            UnitsMicro = units,
            RedeemedMicro = units,
        }]);
        _size++;
    }

    private async Task<IReadOnlyList<UsageStatement>> RunAsync(StatementPass pass)
    {
        var root = new byte[32];
        var headers = await pass.RunAsync((_, _) => Task.FromResult((_size, root)), NoteSigner.Parse(_key.SignerKey), CancellationToken.None);
        var opened = new List<UsageStatement>();
        foreach (var header in headers)
        {
            var envelope = await _statements.GetEnvelopeAsync(header.Sequence);
            Assert.Equal(header.Digest, SHA256.HashData(envelope!));
            opened.Add(StatementEnvelope.Open(envelope, NoteVerifier.Parse(_key.VerifierKey)).Statement!);
        }

        return opened;
    }

    [Fact]
    public async Task Intervals_close_after_their_grace_empty_ones_too_and_late_leaves_go_into_chained_corrections()
    {
        var pass = NewPass();
        await AppendAsync(Contract, T0.AddMinutes(1));         // leaf 0: interval 1
        await AppendAsync(null, T0.AddMinutes(2));             // leaf 1: no contract, in no statement
        await AppendAsync(Contract, T0.AddMinutes(31));        // leaf 2: interval 3 (interval 2 is empty)

        _clock.Now = T0 + Interval + Grace - TimeSpan.FromSeconds(1);
        Assert.Empty(await RunAsync(pass));

        // Interval 1 closes at its end plus the grace, alone.
        _clock.Now = T0 + Interval + Grace;
        var first = Assert.Single(await RunAsync(pass));
        Assert.Equal((1L, T0, T0 + Interval, 3L), (first.Sequence, first.IntervalStart, first.IntervalEnd, first.TreeSize));
        Assert.Equal([0L], first.Leaves);
        Assert.Null(first.PreviousDigest);
        Assert.Null(first.Amends);

        // Two late leaves of interval 1 and one of interval 3 (not closed yet), then intervals 2 and 3 close.
        await AppendAsync(Contract, T0.AddMinutes(14));        // leaf 3
        await AppendAsync(Contract, T0.AddMinutes(32));        // leaf 4
        _clock.Now = T0 + (3 * Interval) + Grace;
        var second = await RunAsync(pass);
        Assert.Equal([2L, 3L, 4L], second.Select(s => s.Sequence));
        Assert.All(second, s => Assert.Equal(5L, s.TreeSize));
        var correction = second[0];
        Assert.Equal((T0, (long?)1), (correction.IntervalStart, correction.Amends));
        Assert.Equal([3L], correction.Leaves);
        Assert.Equal((T0 + Interval, 0), (second[1].IntervalStart, second[1].Leaves.Count));   // the empty interval
        Assert.Equal(T0 + (2 * Interval), second[2].IntervalStart);
        Assert.Equal([2L, 4L], second[2].Leaves);
        Assert.Equal(SHA256.HashData((await _statements.GetEnvelopeAsync(2))!), second[1].PreviousDigest);

        // Another late leaf of interval 1 amends its latest statement, the correction.
        await AppendAsync(Contract, T0.AddMinutes(5));         // leaf 5
        var third = Assert.Single(await RunAsync(pass));
        Assert.Equal(2L, third.Amends);
        Assert.Equal([5L], third.Leaves);

        // A restarted closer finds nothing new to count.
        Assert.Empty(await RunAsync(NewPass()));

        // Each contracted leaf is counted once; the uncontracted one never.
        var all = await _statements.ListAsync(0, 100);
        var counted = new List<long>();
        foreach (var header in all)
        {
            counted.AddRange(StatementEnvelope.Open((await _statements.GetEnvelopeAsync(header.Sequence))!, NoteVerifier.Parse(_key.VerifierKey)).Statement!.Leaves);
        }

        Assert.Equal([0L, 2L, 3L, 4L, 5L], counted.Order());
    }

    [Fact]
    public async Task A_restarted_closer_puts_leaves_appended_while_it_was_down_into_corrections()
    {
        await AppendAsync(Contract, T0.AddMinutes(1));
        _clock.Now = T0 + Interval + Grace;
        Assert.Single(await RunAsync(NewPass()));

        // Down: recovery appends a record of the closed interval; a new process closes again.
        await AppendAsync(Contract, T0.AddMinutes(2));
        var correction = Assert.Single(await RunAsync(NewPass()));
        Assert.Equal(1L, correction.Amends);
        Assert.Equal([1L], correction.Leaves);
    }

    [Fact]
    public async Task Records_of_a_contract_no_spec_defines_are_in_no_statement()
    {
        await AppendAsync("c-unknown", T0.AddMinutes(1));
        _clock.Now = T0.AddDays(1);
        Assert.Empty(await RunAsync(NewPass()));
    }

    private sealed class ManualClock(DateTimeOffset now) : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = now;

        public override DateTimeOffset GetUtcNow() => Now;
    }
}
