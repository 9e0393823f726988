using MeterAgent.Metering.Canonical;

namespace MeterAgent.Metering.Tests.Canonical;

/// <summary>The segments a request or response hands to the tokenizer: every non-empty text, in order.</summary>
public sealed class SegmentListTests
{
    [Fact]
    public void Segments_keep_their_order_past_any_initial_size_and_leave_empty_text_out()
    {
        var list = new SegmentList();
        var expected = new List<string>();
        for (var i = 0; i < 11; i++)
        {
            list.Add(i % 3 == 0 ? null : i % 3 == 1 ? string.Empty : $"segment {i}");
            if (i % 3 == 2)
            {
                expected.Add($"segment {i}");
            }

            list.Add($"text {i}");
            expected.Add($"text {i}");
        }

        var segments = list.Segments;
        Assert.Equal(expected.Count, segments.Count);
        Assert.Equal(expected, Enumerable.Range(0, segments.Count).Select(i => segments[i]));
        Assert.Equal(expected, segments);
        Assert.Throws<ArgumentOutOfRangeException>(() => segments[segments.Count]);
        Assert.Throws<ArgumentOutOfRangeException>(() => segments[-1]);
    }

    [Fact]
    public void No_segment_is_an_empty_list()
    {
        var list = new SegmentList();
        list.Add(null);
        list.Add(string.Empty);
        Assert.Empty(list.Segments);
    }

    [Fact]
    public void Nothing_kept_hands_out_the_shared_empty_list()
    {
        // A small request keeps no segment: handing out its empty list must not box a new one per request.
        var list = new SegmentList();
        Assert.Same(Array.Empty<string>(), list.Segments);
        list.Add("kept");
        Assert.Equal(["kept"], list.Segments);
    }
}
