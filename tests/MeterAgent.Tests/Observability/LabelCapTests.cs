using MeterAgent.Observability;

namespace MeterAgent.Tests.Observability;

public sealed class LabelCapTests
{
    [Fact]
    public void Keeps_the_first_values_up_to_the_cap_and_folds_the_rest_into_other()
    {
        var cap = new LabelCap(2);
        Assert.Equal("a", cap.Apply("a"));
        Assert.Equal("b", cap.Apply("b"));
        Assert.Equal("other", cap.Apply("c"));
        Assert.Equal("a", cap.Apply("a"));
        Assert.Equal("other", cap.Apply("d"));
    }

    [Fact]
    public void Racing_threads_keep_exactly_the_cap_never_more_and_never_fewer()
    {
        // Twenty rounds: the race that once turned a value away while a place was still free showed once in CI.
        for (var round = 0; round < 20; round++)
        {
            var cap = new LabelCap(50);
            var kept = new System.Collections.Concurrent.ConcurrentDictionary<string, byte>();
            Parallel.For(0, 2000, i =>
            {
                var value = cap.Apply($"model-{i % 500}");
                if (value != LabelCap.Other)
                {
                    kept.TryAdd(value, 0);
                }
            });
            Assert.Equal(50, kept.Count);
            Assert.All(kept.Keys, value => Assert.Equal(value, cap.Apply(value)));
        }
    }
}
