using System.Text;
using MeterAgent.Metering.Responses;
using MeterAgent.Metering.Surfaces;
using MeterAgent.Metering.Usage;

namespace MeterAgent.Metering.Tests.Responses;

/// <summary>
/// The tap keeps a bounded amount of any response, however large, and still forwards every byte unchanged; what it
/// did not keep is reported as truncated, with the delivered byte count for the host's floor.
/// </summary>
public sealed class BoundedBufferTests
{
    private const int ChunkSize = 64 * 1024;
    private const long AllocationBound = 64L * 1024 * 1024;

    [Fact]
    public void A_200_MB_json_body_is_forwarded_unchanged_in_bounded_memory_and_its_usage_still_read()
    {
        var prefix = "{\"id\":\"c\",\"model\":\"gpt-4o\",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\""u8.ToArray();
        var suffix = "\"}}],\"usage\":{\"prompt_tokens\":10,\"completion_tokens\":52428800}}"u8.ToArray();
        var filler = new byte[ChunkSize];
        Array.Fill(filler, (byte)'a');
        const long fillerBytes = 200L * 1024 * 1024;

        var meter = new ResponseMeter(ApiSurface.OpenAIChatCompletions, Tap.Json, hideUsageChunk: false);
        var before = GC.GetAllocatedBytesForCurrentThread();
        long forwarded = 0;
        forwarded += Forward(meter, prefix);
        for (long sent = 0; sent < fillerBytes; sent += ChunkSize)
        {
            forwarded += Forward(meter, filler);
        }

        forwarded += Forward(meter, suffix);
        var (remaining, result) = meter.Complete();
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        var total = prefix.Length + fillerBytes + suffix.Length;
        Assert.True(allocated < AllocationBound, $"allocated {allocated} bytes");
        Assert.Equal(total, forwarded);
        Assert.True(remaining.IsEmpty);
        Assert.True(result.Truncated);
        Assert.Contains("JSON body", result.TruncatedReason, StringComparison.Ordinal);
        Assert.Equal(total, result.DeliveredBytes);
        Assert.Equal(new NativeUsage(10, 0, 0, 52428800, 0), result.NativeUsage);
        Assert.True(result.NativeUsageFinal);
        Assert.Equal("gpt-4o", result.ServedModel);
        Assert.False(result.Malformed);
    }

    [Fact]
    public void A_50_MB_sse_event_without_a_newline_is_forwarded_unchanged_in_bounded_memory()
    {
        var filler = new byte[ChunkSize];
        Array.Fill(filler, (byte)'a');
        const long fillerBytes = 50L * 1024 * 1024;

        var meter = new ResponseMeter(ApiSurface.OpenAIChatCompletions, Tap.EventStream, hideUsageChunk: false);
        var before = GC.GetAllocatedBytesForCurrentThread();
        var forwarded = Forward(meter, "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\""u8.ToArray());
        for (long sent = 0; sent < fillerBytes; sent += ChunkSize)
        {
            forwarded += Forward(meter, filler);
        }

        var (remaining, result) = meter.Complete();
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.True(allocated < AllocationBound, $"allocated {allocated} bytes");
        Assert.Equal(forwarded, result.DeliveredBytes);
        Assert.True(remaining.IsEmpty);
        Assert.True(result.Truncated);
        Assert.False(result.Malformed);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void An_oversized_event_is_skipped_and_the_events_after_it_are_still_read(bool hide)
    {
        var limits = new ResponseMeterLimits { MaxEventBytes = 256 };
        var big = "{\"choices\":[{\"index\":0,\"delta\":{\"content\":\"" + new string('x', 1000) + "\"}}]}";
        var stream = Sse(
            """{"model":"m","choices":[{"index":0,"delta":{"content":"Hi"}}]}""",
            big,
            """{"model":"m","choices":[{"index":0,"delta":{"content":" there"}}]}""",
            """{"model":"m","choices":[],"usage":{"prompt_tokens":3,"completion_tokens":300}}""",
            "[DONE]");
        var bytes = Encoding.UTF8.GetBytes(stream);

        var (client, result) = Run(limits, hide, bytes, 100);

        var expected = hide ? stream.Replace(UsageEvent(), string.Empty, StringComparison.Ordinal) : stream;
        Assert.Equal(expected, Encoding.UTF8.GetString(client));
        Assert.Equal(client.Length, result.DeliveredBytes);
        Assert.True(result.Truncated);
        Assert.Contains("SSE", result.TruncatedReason, StringComparison.Ordinal);
        Assert.Equal(["Hi there"], result.OutputSegments);
        Assert.Equal(new NativeUsage(3, 0, 0, 300, 0), result.NativeUsage);
        Assert.True(result.Complete);
    }

    [Fact]
    public void While_hiding_an_event_too_large_to_hold_back_is_released_as_it_comes()
    {
        // The usage chunk itself is padded past the bound: it cannot be held until its end, so the client gets it.
        var limits = new ResponseMeterLimits { MaxEventBytes = 256 };
        var padded = "{\"id\":\"" + new string('p', 300) + "\",\"choices\":[],\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":4}}";
        var stream = Sse("""{"choices":[{"index":0,"delta":{"content":"Hi"}}]}""", padded, "[DONE]");
        var bytes = Encoding.UTF8.GetBytes(stream);

        var (client, result) = Run(limits, hide: true, bytes, 50);

        Assert.Equal(stream, Encoding.UTF8.GetString(client));
        Assert.Equal(bytes.Length, result.DeliveredBytes);
        Assert.True(result.Complete);
    }

    [Fact]
    public void While_hiding_a_split_usage_chunk_under_the_bound_is_still_hidden()
    {
        var limits = new ResponseMeterLimits { MaxEventBytes = 4096 };
        var stream = Sse("""{"choices":[{"index":0,"delta":{"content":"Hi"}}]}""",
            """{"choices":[],"usage":{"prompt_tokens":3,"completion_tokens":4}}""", "[DONE]");

        var (client, result) = Run(limits, hide: true, Encoding.UTF8.GetBytes(stream), 7);

        var usage = "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":4}}\n\n";
        Assert.Equal(stream.Replace(usage, string.Empty, StringComparison.Ordinal), Encoding.UTF8.GetString(client));
        Assert.False(result.Truncated);
        Assert.Equal(client.Length, result.DeliveredBytes);
    }

    [Fact]
    public void Output_text_past_the_budget_is_not_kept_and_is_reported()
    {
        var limits = new ResponseMeterLimits { MaxTextChars = 10 };
        var stream = Sse(
            """{"choices":[{"index":0,"delta":{"content":"12345"}}]}""",
            """{"choices":[{"index":0,"delta":{"content":"67890"}}]}""",
            """{"choices":[{"index":0,"delta":{"content":"abcde"}}]}""",
            "[DONE]");

        var (_, result) = Run(limits, hide: false, Encoding.UTF8.GetBytes(stream), 1000);

        Assert.Equal(["1234567890"], result.OutputSegments);
        Assert.True(result.Truncated);
        Assert.Contains("text", result.TruncatedReason, StringComparison.Ordinal);
    }

    [Fact]
    public void Under_every_bound_nothing_is_truncated()
    {
        var (_, result) = Tap.Whole(ApiSurface.OpenAIChatCompletions, Tap.Json,
            """{"model":"m","choices":[{"index":0,"message":{"content":"x"}}],"usage":{"prompt_tokens":3,"completion_tokens":4}}""");

        Assert.False(result.Truncated);
        Assert.Null(result.TruncatedReason);
        Assert.True(result.DeliveredBytes > 0);
    }

    [Theory]
    [InlineData("""{"usage":{"completion_tokens":1},"choices":[{"usage":{"completion_tokens":2},"message":{"content":"a \"usage\":{\"x\"} \\"}}],"model":"m2","usage":{"prompt_tokens":5,"completion_tokens":6}}""", 5, 6, "m2")]
    [InlineData("""{"model":"m","choices":[],"usage":{"prompt_tokens":-5,"completion_tokens":6}, "id" : "x" } """, 0, 6, "m")]
    public void A_json_body_over_the_bound_still_gives_its_root_usage(string body, long input, long output, string model)
    {
        var limits = new ResponseMeterLimits { MaxBodyBytes = 16 };
        var bytes = Encoding.UTF8.GetBytes(body);

        var (client, result) = Run(limits, hide: false, bytes, 3, ApiSurface.OpenAIChatCompletions, Tap.Json);

        Assert.Equal(bytes, client);
        Assert.True(result.Truncated);
        Assert.Equal(input, result.NativeUsage!.InputTokens);
        Assert.Equal(output, result.NativeUsage.OutputTokens);
        Assert.Equal(model, result.ServedModel);
        Assert.True(result.Complete);
        Assert.Empty(result.OutputSegments);
    }

    [Theory]
    [InlineData("""{"model":"m","choices":[],"usage":{"prompt_tokens":5}""")]
    [InlineData("""{"model":"m","choices":[]} trailing""")]
    [InlineData("""["model","usage",{"prompt_tokens":5}]""")]
    public void A_broken_json_body_over_the_bound_is_malformed(string body)
    {
        var limits = new ResponseMeterLimits { MaxBodyBytes = 16 };

        var (_, result) = Run(limits, hide: false, Encoding.UTF8.GetBytes(body), 5, ApiSurface.OpenAIChatCompletions, Tap.Json);

        Assert.True(result.Malformed);
        Assert.False(result.Complete);
        Assert.True(result.Truncated);
    }

    private static long Forward(ResponseMeter meter, byte[] chunk)
    {
        var output = meter.Process(chunk);
        Assert.True(output.Span.SequenceEqual(chunk));
        return output.Length;
    }

    private static (byte[] Client, MeteredResponse Result) Run(
        ResponseMeterLimits limits, bool hide, byte[] body, int piece,
        ApiSurface surface = ApiSurface.OpenAIChatCompletions, string contentType = Tap.EventStream)
    {
        var meter = new ResponseMeter(surface, contentType, hide, limits);
        var client = new List<byte>(body.Length);
        for (var start = 0; start < body.Length; start += piece)
        {
            client.AddRange(meter.Process(body.AsMemory(start, Math.Min(piece, body.Length - start))).ToArray());
        }

        var (remaining, result) = meter.Complete();
        client.AddRange(remaining.ToArray());
        return (client.ToArray(), result);
    }

    private static string UsageEvent() =>
        "data: {\"model\":\"m\",\"choices\":[],\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":300}}\n\n";

    private static string Sse(params string[] data) => string.Concat(data.Select(item => $"data: {item}\n\n"));
}
