using MeterAgent.Metering.Surfaces;
using MeterAgent.Metering.Usage;

namespace MeterAgent.Metering.Tests.Responses;

/// <summary>Upstream usage numbers are untrusted: out-of-range or contradictory counts are clamped and flagged.</summary>
public sealed class SuspectUsageTests
{
    [Fact]
    public void Negative_prompt_tokens_are_clamped_to_zero_and_flagged()
    {
        var (_, result) = Tap.Whole(ApiSurface.OpenAIChatCompletions, Tap.Json,
            """{"model":"m","choices":[{"index":0,"message":{"content":"x"}}],"usage":{"prompt_tokens":-5,"completion_tokens":4}}""");

        Assert.Equal(new NativeUsage(0, 0, 0, 4, 0), result.NativeUsage);
        Assert.True(result.NativeUsageSuspect);
    }

    [Fact]
    public void Plain_usage_is_not_suspect()
    {
        var (_, result) = Tap.Whole(ApiSurface.OpenAIChatCompletions, Tap.Json,
            """{"model":"m","choices":[],"usage":{"prompt_tokens":5,"completion_tokens":4,"prompt_tokens_details":{"cached_tokens":5},"completion_tokens_details":null}}""");
        var (_, anthropic) = Tap.Whole(ApiSurface.AnthropicMessages, Tap.Json,
            """{"model":"c","content":[],"usage":{"input_tokens":3,"cache_creation_input_tokens":null,"output_tokens":4}}""");

        Assert.False(result.NativeUsageSuspect);
        Assert.False(anthropic.NativeUsageSuspect);
        Assert.Equal(new NativeUsage(3, 0, 0, 4, 0), anthropic.NativeUsage);
    }

    [Theory]
    [InlineData("1e30", 1_000_000_000_000)]
    [InlineData("99999999999999999999999", 1_000_000_000_000)]
    [InlineData("1000000000001", 1_000_000_000_000)]
    [InlineData("2.5", 3)]
    [InlineData("-1e3", 0)]
    [InlineData("\"7\"", 0)]
    public void Absurd_counts_are_brought_into_range_never_down_and_flagged(string count, long expected)
    {
        var (_, result) = Tap.Whole(ApiSurface.OpenAIResponses, Tap.Json,
            $$$"""{"model":"m","output":[],"usage":{"input_tokens":1,"output_tokens":{{{count}}}}}""");

        Assert.Equal(expected, result.NativeUsage!.OutputTokens);
        Assert.True(result.NativeUsageSuspect);
    }

    [Fact]
    public void Parts_over_their_total_are_flagged()
    {
        var (_, cached) = Tap.Whole(ApiSurface.OpenAIChatCompletions, Tap.Json,
            """{"model":"m","choices":[],"usage":{"prompt_tokens":5,"completion_tokens":4,"prompt_tokens_details":{"cached_tokens":6}}}""");
        var (_, reasoning) = Tap.Whole(ApiSurface.OpenAIResponses, Tap.Json,
            """{"model":"m","output":[],"usage":{"input_tokens":5,"output_tokens":4,"output_tokens_details":{"reasoning_tokens":9}}}""");

        Assert.True(cached.NativeUsageSuspect);
        Assert.Equal(new NativeUsage(5, 6, 0, 4, 0), cached.NativeUsage);
        Assert.True(reasoning.NativeUsageSuspect);
    }

    [Fact]
    public void Anthropic_negative_stream_count_is_clamped_and_the_flag_sticks()
    {
        var stream = "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"model\":\"c\",\"usage\":{\"input_tokens\":-100,\"output_tokens\":1}}}\n\n"
            + "event: message_delta\ndata: {\"type\":\"message_delta\",\"usage\":{\"output_tokens\":8}}\n\n";
        var (_, result) = Tap.Whole(ApiSurface.AnthropicMessages, Tap.EventStream, stream);

        Assert.Equal(new NativeUsage(0, 0, 0, 8, 0), result.NativeUsage);
        Assert.True(result.NativeUsageSuspect);
        Assert.True(result.NativeUsageFinal);
    }
}
