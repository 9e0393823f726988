using MeterAgent.Proxy;
using Microsoft.Extensions.Logging.Abstractions;

namespace MeterAgent.IntegrationTests;

public sealed class SettlementTrackerTests
{
    [Fact]
    public async Task Stop_waits_for_every_settlement_in_flight()
    {
        var tracker = new SettlementTracker(NullLogger<SettlementTracker>.Instance);
        var first = tracker.Begin("acct");
        var second = tracker.Begin("acct");

        var stopping = tracker.StopAsync(CancellationToken.None);
        tracker.End("u1", first, null);
        await Task.Delay(50);
        Assert.False(stopping.IsCompleted, "one settlement is still running");

        tracker.End("u2", second, new InvalidOperationException("store gone"));
        await stopping.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Equal(0, tracker.InFlight);
    }

    [Fact]
    public async Task Stop_gives_up_when_the_host_stops_waiting()
    {
        var tracker = new SettlementTracker(NullLogger<SettlementTracker>.Instance);
        tracker.Begin("acct");
        using var timeout = new CancellationTokenSource(TimeSpan.FromMilliseconds(100));
        await tracker.StopAsync(timeout.Token).WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Equal(1, tracker.InFlight);
    }

    [Fact]
    public async Task A_refused_reserve_waits_only_for_its_accounts_settlements_in_flight_when_it_was_made()
    {
        var tracker = new SettlementTracker(NullLogger<SettlementTracker>.Instance);
        var wait = TimeSpan.FromSeconds(30);
        Assert.Null(tracker.SettlingFor("a")); // nothing settling: a refusal is final

        var earlier = tracker.Begin("a");
        var other = tracker.Begin("b");
        var settling = tracker.SettlingFor("a");
        Assert.NotNull(settling);
        var waiting = tracker.SettledAsync("a", settling, wait);
        var later = tracker.Begin("a");

        tracker.End("ub", other, null);
        await Task.Delay(50);
        Assert.False(waiting.IsCompleted, "another account's settlement does not end the wait");

        tracker.End("ua1", earlier, null);
        await waiting.WaitAsync(TimeSpan.FromSeconds(5)); // the later settlement, still running, is not waited for

        // One slow to commit is waited for no longer than the bound; one that ended before the refusal was noticed, not
        // at all.
        var stillRunning = tracker.SettlingFor("a");
        Assert.NotNull(stillRunning);
        await tracker.SettledAsync("a", stillRunning, TimeSpan.FromMilliseconds(50)).WaitAsync(TimeSpan.FromSeconds(5));
        tracker.End("ua2", later, null);
        await tracker.SettledAsync("a", stillRunning, wait).WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Null(tracker.SettlingFor("a"));
        Assert.Equal(0, tracker.InFlight);
    }
}
