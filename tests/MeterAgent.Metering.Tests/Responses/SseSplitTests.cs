using System.Text;
using MeterAgent.Metering.Surfaces;

namespace MeterAgent.Metering.Tests.Responses;

/// <summary>The tap must give the same result wherever the transport splits the stream.</summary>
public sealed class SseSplitTests
{
    // CRLF line endings, a comment, a multi-line data field, CJK, an emoji ZWJ sequence and a flag.
    private const string ChatStream =
        ": keep-alive\r\n\r\n" +
        "data: {\"id\":\"c1\",\"model\":\"gpt-4o-mini\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"}}]}\r\n\r\n" +
        "data: {\"id\":\"c1\",\"model\":\"gpt-4o-mini\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"你好，世界 \"}}]}\r\n\r\n" +
        "data: {\"id\":\"c1\",\"model\":\"gpt-4o-mini\",\"choices\":[{\"index\":0,\r\n" +
        "data: \"delta\":{\"content\":\"👨‍👩‍👧 🇯🇵 done\"}}]}\r\n\r\n" +
        "data: {\"id\":\"c1\",\"model\":\"gpt-4o-mini\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\r\n\r\n" +
        "data: {\"id\":\"c1\",\"model\":\"gpt-4o-mini\",\"choices\":[],\"usage\":{\"prompt_tokens\":12,\"completion_tokens\":7,\"total_tokens\":19,\"prompt_tokens_details\":{\"cached_tokens\":4},\"completion_tokens_details\":{\"reasoning_tokens\":2}}}\r\n\r\n" +
        "data: [DONE]\r\n\r\n";

    private const string UsageEvent =
        "data: {\"id\":\"c1\",\"model\":\"gpt-4o-mini\",\"choices\":[],\"usage\":{\"prompt_tokens\":12,\"completion_tokens\":7,\"total_tokens\":19,\"prompt_tokens_details\":{\"cached_tokens\":4},\"completion_tokens_details\":{\"reasoning_tokens\":2}}}\r\n\r\n";

    private static readonly byte[] ChatBytes = Encoding.UTF8.GetBytes(ChatStream);

    [Fact]
    public void Whole_stream_is_metered()
    {
        var (client, result) = Tap.Run(ApiSurface.OpenAIChatCompletions, Tap.EventStream, false, ChatBytes, []);

        Assert.Equal(ChatBytes, client);
        AssertChatResult(result);
    }

    [Fact]
    public void Split_at_every_offset_gives_the_same_result_and_bytes()
    {
        for (var cut = 1; cut < ChatBytes.Length; cut++)
        {
            var (client, result) = Tap.Run(ApiSurface.OpenAIChatCompletions, Tap.EventStream, false, ChatBytes, [cut]);
            Assert.Equal(ChatBytes, client);
            AssertChatResult(result);
        }
    }

    [Fact]
    public void Split_into_single_bytes_gives_the_same_result()
    {
        var (client, result) = Tap.Run(ApiSurface.OpenAIChatCompletions, Tap.EventStream, false, ChatBytes, Tap.SingleBytes(ChatBytes.Length));

        Assert.Equal(ChatBytes, client);
        AssertChatResult(result);
    }

    [Fact]
    public void Split_at_every_pair_of_offsets_inside_multibyte_characters()
    {
        // Every cut pair around the emoji and CJK text, so a character is split over three chunks.
        var emoji = ChatStream.IndexOf("👨", StringComparison.Ordinal);
        var from = Encoding.UTF8.GetByteCount(ChatStream[..ChatStream.IndexOf("你", StringComparison.Ordinal)]);
        var to = Encoding.UTF8.GetByteCount(ChatStream[..(emoji + 12)]);
        for (var a = from; a < to; a++)
        {
            for (var b = a + 1; b <= Math.Min(a + 5, to); b++)
            {
                var (client, result) = Tap.Run(ApiSurface.OpenAIChatCompletions, Tap.EventStream, false, ChatBytes, [a, b]);
                Assert.Equal(ChatBytes, client);
                AssertChatResult(result);
            }
        }
    }

    [Fact]
    public void Hiding_the_usage_chunk_yields_the_stream_minus_that_event_at_every_split()
    {
        var expected = Encoding.UTF8.GetBytes(ChatStream.Replace(UsageEvent, string.Empty, StringComparison.Ordinal));
        Assert.NotEqual(ChatBytes.Length, expected.Length);

        for (var cut = 0; cut <= ChatBytes.Length; cut++)
        {
            int[] cuts = cut is 0 || cut == ChatBytes.Length ? [] : [cut];
            var (client, result) = Tap.Run(ApiSurface.OpenAIChatCompletions, Tap.EventStream, true, ChatBytes, cuts);
            Assert.True(expected.AsSpan().SequenceEqual(client), $"client bytes differ when split at {cut}");
            AssertChatResult(result);
        }

        var (single, singleResult) = Tap.Run(ApiSurface.OpenAIChatCompletions, Tap.EventStream, true, ChatBytes, Tap.SingleBytes(ChatBytes.Length));
        Assert.Equal(expected, single);
        AssertChatResult(singleResult);
    }

    [Theory]
    [InlineData("\n")]
    [InlineData("\r")]
    [InlineData("\r\n")]
    public void Hiding_works_with_each_line_ending_at_every_split(string newline)
    {
        var stream = ChatStream.Replace("\r\n", newline, StringComparison.Ordinal);
        var usage = UsageEvent.Replace("\r\n", newline, StringComparison.Ordinal);
        var bytes = Encoding.UTF8.GetBytes(stream);
        var expected = Encoding.UTF8.GetBytes(stream.Replace(usage, string.Empty, StringComparison.Ordinal));

        for (var cut = 1; cut < bytes.Length; cut++)
        {
            var (client, result) = Tap.Run(ApiSurface.OpenAIChatCompletions, Tap.EventStream, true, bytes, [cut]);
            Assert.True(expected.AsSpan().SequenceEqual(client), $"client bytes differ when split at {cut}");
            AssertChatResult(result);
        }
    }

    [Fact]
    public void Without_hiding_the_chunk_itself_is_returned()
    {
        var meter = new MeterAgent.Metering.Responses.ResponseMeter(ApiSurface.OpenAIChatCompletions, Tap.EventStream, false);
        ReadOnlyMemory<byte> chunk = ChatBytes;
        var passed = meter.Process(chunk);
        Assert.True(System.Runtime.InteropServices.MemoryMarshal.TryGetArray(passed, out var segment));
        Assert.Same(ChatBytes, segment.Array);
    }

    [Fact]
    public void While_hiding_only_the_incomplete_event_is_held_back()
    {
        var meter = new MeterAgent.Metering.Responses.ResponseMeter(ApiSurface.OpenAIChatCompletions, Tap.EventStream, true);
        var first = "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"hi\"}}]}\n\ndata: {\"cho"u8.ToArray();
        var passed = meter.Process(first);
        Assert.Equal(first.Length - "data: {\"cho".Length, passed.Length);
        Assert.True(meter.SawFirstToken);

        var (remaining, result) = meter.Complete();
        Assert.Equal("data: {\"cho"u8.ToArray(), remaining.ToArray());
        Assert.False(result.Complete);
        Assert.Equal(["hi"], result.OutputSegments);
    }

    private static void AssertChatResult(MeterAgent.Metering.Responses.MeteredResponse result)
    {
        Assert.True(result.Complete);
        Assert.False(result.Malformed);
        Assert.Null(result.UpstreamError);
        Assert.Equal("gpt-4o-mini", result.ServedModel);
        Assert.Equal(["你好，世界 👨‍👩‍👧 🇯🇵 done"], result.OutputSegments);
        Assert.Equal(new MeterAgent.Metering.Usage.NativeUsage(12, 4, 0, 7, 2), result.NativeUsage);
    }
}
