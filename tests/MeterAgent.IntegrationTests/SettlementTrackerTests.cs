using MeterAgent.Proxy;
using Microsoft.Extensions.Logging.Abstractions;

namespace MeterAgent.IntegrationTests;

public sealed class SettlementTrackerTests
{
    [Fact]
    public async Task Stop_waits_for_every_settlement_in_flight()
    {
        var tracker = new SettlementTracker(NullLogger<SettlementTracker>.Instance);
        tracker.Begin();
        tracker.Begin();

        var stopping = tracker.StopAsync(CancellationToken.None);
        tracker.End("u1", null);
        await Task.Delay(50);
        Assert.False(stopping.IsCompleted, "one settlement is still running");

        tracker.End("u2", new InvalidOperationException("store gone"));
        await stopping.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Equal(0, tracker.InFlight);
    }

    [Fact]
    public async Task Stop_gives_up_when_the_host_stops_waiting()
    {
        var tracker = new SettlementTracker(NullLogger<SettlementTracker>.Instance);
        tracker.Begin();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMilliseconds(100));
        await tracker.StopAsync(timeout.Token).WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Equal(1, tracker.InFlight);
    }
}
