using System.Collections.Concurrent;
using MeterAgent.Contracts.Units;
using MeterAgent.Hosting;
using MeterAgent.Ledger.Outcomes;
using MeterAgent.Ledger.Usage;
using MeterAgent.Settlement;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace MeterAgent.Tests.Settlement;

/// <summary>The seam every metered request ends in: durable first, then each observer, in order, once.</summary>
public sealed class SettlementPipelineTests : IAsyncLifetime
{
    private readonly ConcurrentQueue<string> _seen = new();
    private readonly TempFolder _directory = new("meteragent-seam-");
    private WebApplication _app = null!;

    public Task InitializeAsync()
    {
        _app = MeterAgentHost.Build(
            [],
            config => config.AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["Store:Path"] = _directory.File("seam.db"),
                ["Logging:LogLevel:Default"] = "None",
            }),
            services =>
            {
                services.AddSingleton<ISettlementObserver>(new Recorder("first", _seen, this));
                services.AddSingleton<ISettlementObserver>(new Failing());
                services.AddSingleton<ISettlementObserver>(new Recorder("last", _seen, this));
            });
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _app.DisposeAsync();
        _directory.Dispose();
    }

    private SettlementPipeline Pipeline => _app.Services.GetRequiredService<SettlementPipeline>();

    internal IUsageStore Usage => _app.Services.GetRequiredService<IUsageStore>();

    [Fact]
    public async Task Every_outcome_reaches_each_observer_once_in_registration_order_even_past_a_failing_one()
    {
        var outcomes = new[]
        {
            Outcome("u1", UsageStatus.Completed, forwarded: true),
            Outcome("u2", UsageStatus.ClientAborted, forwarded: false),
            Outcome("u3", UsageStatus.Rejected, forwarded: false),
        };

        foreach (var outcome in outcomes)
        {
            var settled = await Pipeline.SettleAsync(outcome);
            Assert.Same(outcome, settled.Outcome);
            Assert.Null(settled.Redemption);
        }

        // Each observer saw the record already closed in the store, with the outcome's own status.
        Assert.Equal(
            ["first u1 Completed", "last u1 Completed", "first u2 ClientAborted", "last u2 ClientAborted", "first u3 Rejected", "last u3 Rejected"],
            _seen);
    }

    [Fact]
    public async Task The_durable_record_is_the_outcome_as_it_was_decided()
    {
        var outcome = Outcome("u4", UsageStatus.Completed, forwarded: true) with
        {
            Counts = new MeteredCounts(12, 30, 15, 4, 0, 33, 3),
            ServedModel = "emu-chat-2026",
            Flags = "native_not_final",
            HttpStatus = 200,
        };

        await Pipeline.SettleAsync(outcome);

        var record = await Usage.GetAsync("u4");
        Assert.NotNull(record);
        Assert.Equal(
            (UsageStatus.Completed, 200, "emu-chat-2026", "native", "native_not_final"),
            (record.Status, record.HttpStatus, record.ServedModel, record.Quality, record.Flags));
        Assert.Equal(outcome.Counts, record.Counts);
        Assert.Equal(outcome.EndedAt, record.EndedAt);
    }

    [Theory]
    [InlineData(UsageStatus.Completed, true, true)]
    [InlineData(UsageStatus.ClientAborted, true, true)]
    [InlineData(UsageStatus.ClientAborted, false, false)]
    [InlineData(UsageStatus.UpstreamFailed, true, false)]
    [InlineData(UsageStatus.UpstreamError, true, false)]
    [InlineData(UsageStatus.Rejected, false, false)]
    [InlineData(UsageStatus.Failed, false, false)]
    public void Only_what_was_forwarded_and_delivered_is_chargeable(UsageStatus status, bool forwarded, bool chargeable)
    {
        Assert.Equal(chargeable, Outcome("u", status, forwarded).Chargeable);
    }

    private static RequestOutcome Outcome(string id, UsageStatus status, bool forwarded) => new()
    {
        UsageId = id,
        AccountId = "acct_0000000000000001",
        KeyId = "key_0000000000000001",
        Surface = "openai.chat_completions",
        RequestedModel = "emu-chat",
        StartedAt = new DateTimeOffset(2026, 11, 29, 12, 0, 0, TimeSpan.Zero),
        EndedAt = new DateTimeOffset(2026, 11, 29, 12, 0, 1, TimeSpan.Zero),
        Status = status,
        Forwarded = forwarded,
        Counts = new MeteredCounts(10, 0, null, null, null, null, null),
    };

    private sealed class Recorder(string name, ConcurrentQueue<string> seen, SettlementPipelineTests test) : ISettlementObserver
    {
        public async ValueTask OnSettledAsync(SettledRequest settled, CancellationToken cancellationToken)
        {
            var stored = await test.Usage.GetAsync(settled.Outcome.UsageId, cancellationToken);
            seen.Enqueue($"{name} {settled.Outcome.UsageId} {stored?.Status}");
        }
    }

    private sealed class Failing : ISettlementObserver
    {
        public ValueTask OnSettledAsync(SettledRequest settled, CancellationToken cancellationToken) =>
            throw new InvalidOperationException("an observer that always fails");
    }
}
