using System.Collections.Concurrent;
using MeterAgent.Proxy;

namespace MeterAgent.Tests.Proxy;

public sealed class UsageIdsTests
{
    [Fact]
    public void An_id_is_a_uuid_v7_in_the_layout_guid_gives_with_the_time_in_its_first_48_bits()
    {
        var now = new DateTimeOffset(2026, 12, 1, 23, 59, 58, 123, TimeSpan.Zero);
        var id = UsageIds.NextGuid(now);
        var reference = Guid.CreateVersion7(now);

        Assert.Equal(7, id.Version);
        Assert.InRange(id.Variant, 8, 11); // Guid.Variant is the whole nibble: RFC 9562's variant is its top bits, 10
        Assert.InRange(reference.Variant, 8, 11);
        Assert.Equal(reference.ToString("N")[..12], id.ToString("N")[..12]);
        Assert.Equal(now.ToUnixTimeMilliseconds(), Convert.ToInt64(id.ToString("N")[..12], 16));

        var text = UsageIds.Next();
        Assert.Matches("^[0-9a-f]{12}7[0-9a-f]{3}[89ab][0-9a-f]{15}$", text);
    }

    [Fact]
    public void Ids_made_in_one_millisecond_on_many_threads_never_repeat_across_buffer_refills()
    {
        // One instant for all: only the random bits tell the ids apart, and each thread refills its buffer many times.
        var now = DateTimeOffset.UnixEpoch.AddDays(20_000);
        var seen = new ConcurrentDictionary<Guid, byte>();
        Parallel.For(0, 8, _ =>
        {
            for (var i = 0; i < 5_000; i++)
            {
                Assert.True(seen.TryAdd(UsageIds.NextGuid(now), 0));
            }
        });
        Assert.Equal(40_000, seen.Count);
    }

    [Fact]
    public void Later_ids_sort_after_earlier_ones()
    {
        var earlier = UsageIds.NextGuid(DateTimeOffset.UnixEpoch.AddDays(20_000)).ToString("N");
        var later = UsageIds.NextGuid(DateTimeOffset.UnixEpoch.AddDays(20_000).AddMilliseconds(1)).ToString("N");
        Assert.True(string.CompareOrdinal(earlier, later) < 0);
    }
}
