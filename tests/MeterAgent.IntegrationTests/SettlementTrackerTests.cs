using MeterAgent.Proxy;
using Microsoft.Extensions.Logging.Abstractions;

namespace MeterAgent.IntegrationTests;

public sealed class SettlementTrackerTests
{
    [Fact]
    public async Task Stop_waits_for_every_settlement_in_flight()
    {
        var tracker = new SettlementTracker(NullLogger<SettlementTracker>.Instance);
        var first = new TaskCompletionSource();
        var second = new TaskCompletionSource();
        tracker.Track("u1", first.Task);
        tracker.Track("u2", second.Task);

        var stopping = tracker.StopAsync(CancellationToken.None);
        first.SetResult();
        await Task.Delay(50);
        Assert.False(stopping.IsCompleted, "one settlement is still running");

        second.SetException(new InvalidOperationException("store gone"));
        await stopping.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Equal(0, tracker.InFlight);
    }

    [Fact]
    public async Task Stop_gives_up_when_the_host_stops_waiting()
    {
        var tracker = new SettlementTracker(NullLogger<SettlementTracker>.Instance);
        tracker.Track("u1", new TaskCompletionSource().Task);
        using var timeout = new CancellationTokenSource(TimeSpan.FromMilliseconds(100));
        await tracker.StopAsync(timeout.Token).WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Equal(1, tracker.InFlight);
    }
}
