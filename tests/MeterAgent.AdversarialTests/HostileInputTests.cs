using System.Net;
using MeterAgent.Ledger.Usage;
using Microsoft.AspNetCore.Http;

namespace MeterAgent.AdversarialTests;

/// <summary>Bodies and upstream answers built to confuse the meter or crash the agent: each gets a 4xx in shape, or is metered in full.</summary>
public sealed class HostileInputTests : IAsyncLifetime
{
    private ClearingHouse _house = null!;
    private TestAgent _agent = null!;

    public async Task InitializeAsync()
    {
        _house = ClearingHouse.Create();
        _agent = await TestAgent.StartAsync(settings: _house.AgentSettings());
        await ClearingHouse.DeliverAsync(_agent.Admin, _house.Notice(_agent.AccountId, 1_000_000));
    }

    public async Task DisposeAsync()
    {
        await _agent.DisposeAsync();
        _house.Dispose();
    }

    public static TheoryData<string, string> AmbiguousBodies => new()
    {
        // The proxy asks for usage in the first stream_options; the upstream reads the last and hides reasoning tokens.
        { """{"model":"emu-chat","stream":true,"stream_options":{"include_usage":false},"stream_options":{"include_usage":false},"messages":[{"role":"user","content":"hi"}]}""", "stream_options" },
        { """{"model":"emu-chat","model":"emu-chat-large","messages":[{"role":"user","content":"hi"}]}""", "model" },
        { """{"model":"emu-chat","messages":[{"role":"user","content":"short"}],"messages":[{"role":"user","content":"a much longer prompt"}]}""", "messages" },
        { """{"model":"emu-chat","stream":"true","messages":[{"role":"user","content":"hi"}]}""", "stream" },
        { """{"model":"emu-chat","max_tokens":-1,"messages":[{"role":"user","content":"hi"}]}""", "max_tokens" },
        { """{"model":"emu-chat","max_tokens":99999999999999999999,"messages":[{"role":"user","content":"hi"}]}""", "max_tokens" },
        { """{"model":"emu-chat","max_tokens":1e3,"messages":[{"role":"user","content":"hi"}]}""", "max_tokens" },
        { """{"model":"emu-chat","messages":{"role":"user","content":"not an array"}}""", "messages" },
    };

    [Theory]
    [MemberData(nameof(AmbiguousBodies))]
    public async Task An_ambiguous_or_type_confused_body_is_refused_before_it_reaches_the_upstream(string body, string param)
    {
        var before = _agent.Emulator.Stats.RequestsReceived;
        using var request = _agent.OpenAIRequest("v1/chat/completions", body);

        using var response = await _agent.Http.SendAsync(request);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var error = (await TestAgent.JsonAsync(response)).GetProperty("error");
        Assert.Equal("invalid_request_error", error.GetProperty("type").GetString());
        Assert.StartsWith(param, error.GetProperty("param").GetString(), StringComparison.Ordinal);
        Assert.Equal(before, _agent.Emulator.Stats.RequestsReceived);
        Assert.Equal(UsageStatus.Rejected, (await _agent.RecordForAsync(response)).Status);
    }

    [Fact]
    public async Task Deep_nesting_in_a_streaming_request_is_a_400_not_a_500()
    {
        var deep = new string('[', 300) + new string(']', 300);
        using var request = _agent.OpenAIRequest("v1/chat/completions",
            $$"""{"model":"emu-chat","stream":true,"metadata":{{deep}},"messages":[{"role":"user","content":"hi"}]}""");

        using var response = await _agent.Http.SendAsync(request);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("invalid_request_error", (await TestAgent.JsonAsync(response)).GetProperty("error").GetProperty("type").GetString());
    }

    [Fact]
    public async Task Nesting_past_64_within_the_limit_on_a_streaming_request_is_forwarded_not_a_500()
    {
        // The usage rewrite once read with the default depth of 64 and threw: the agent answered 500.
        var deep = new string('[', 100) + new string(']', 100);
        var before = _agent.Emulator.Stats.RequestsReceived;
        using var request = _agent.OpenAIRequest("v1/chat/completions",
            $$"""{"model":"emu-chat","stream":true,"metadata":{"x":{{deep}}},"messages":[{"role":"user","content":"hi"}]}""");

        using var response = await _agent.Http.SendAsync(request);

        // The emulator itself refuses JSON nested past 64 (its own 400): what matters is that the agent forwarded it.
        Assert.NotEqual(HttpStatusCode.InternalServerError, response.StatusCode);
        Assert.Equal(before + 1, _agent.Emulator.Stats.RequestsReceived);
        var record = await _agent.RecordForAsync(response);
        Assert.Equal(UsageStatus.UpstreamError, record.Status);
        Assert.Equal(0, record.RedeemedMicro);
    }
}

/// <summary>An upstream that lies about usage: its numbers are clamped, flagged and never lower the bill.</summary>
public sealed class LyingUpstreamTests : IAsyncLifetime
{
    private HostileUpstream _upstream = null!;
    private ClearingHouse _house = null!;
    private TestAgent _agent = null!;

    public async Task InitializeAsync()
    {
        _upstream = await HostileUpstream.StartAsync();
        _house = ClearingHouse.Create(unitBasis: "native");
        var settings = _house.AgentSettings();
        settings["ReverseProxy:Clusters:openai:Destinations:primary:Address"] = _upstream.Url;
        _agent = await TestAgent.StartAsync(settings: settings);
        await ClearingHouse.DeliverAsync(_agent.Admin, _house.Notice(_agent.AccountId, 1_000_000));
    }

    public async Task DisposeAsync()
    {
        await _agent.DisposeAsync();
        await _upstream.DisposeAsync();
        _house.Dispose();
    }

    [Fact]
    public async Task Negative_usage_is_clamped_flagged_and_billed_at_least_at_the_reference_count()
    {
        const string Text = "The quarterly strip settles at the volume weighted price of the delivery window.";
        _upstream.Respond = context =>
        {
            context.Response.ContentType = "application/json";
            return context.Response.WriteAsync($$$"""
                {"id":"c1","object":"chat.completion","model":"emu-chat","choices":[{"index":0,"message":{"role":"assistant","content":"{{{Text}}}"},"finish_reason":"stop"}],
                 "usage":{"prompt_tokens":-5000,"completion_tokens":-100,"total_tokens":-5100}}
                """);
        };
        using var request = _agent.OpenAIRequest("v1/chat/completions", """{"model":"emu-chat","max_tokens":64,"messages":[{"role":"user","content":"Quote the strip."}]}""");

        using var response = await _agent.Http.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var record = await _agent.RecordForAsync(response);
        Assert.Equal(UsageStatus.Completed, record.Status);
        Assert.Equal((0L, 0L), (record.NativeInputTokens, record.NativeOutputTokens));
        Assert.Contains(UsageFlags.NativeSuspect, record.Flags.Split(','));
        Assert.Contains(UsageFlags.NativeBelowReference, record.Flags.Split(','));
        Assert.True(record.ReferenceOutputTokens > 10);

        // Weights input 1, output 2: the reference counts are the floor.
        Assert.Equal((record.ReferenceInputTokens + (2 * record.ReferenceOutputTokens)) * 1_000_000, record.UnitsMicro);
        Assert.Equal(record.UnitsMicro, record.RedeemedMicro);
    }

    [Fact]
    public async Task A_usage_block_below_what_was_delivered_is_billed_at_the_delivered_count()
    {
        var text = string.Join(' ', Enumerable.Repeat("settlement", 200));
        _upstream.Respond = context =>
        {
            context.Response.ContentType = "application/json";
            return context.Response.WriteAsync($$$"""
                {"id":"c1","object":"chat.completion","model":"emu-chat","choices":[{"index":0,"message":{"role":"assistant","content":"{{{text}}}"},"finish_reason":"stop"}],
                 "usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}}
                """);
        };
        using var request = _agent.OpenAIRequest("v1/chat/completions", """{"model":"emu-chat","max_tokens":400,"messages":[{"role":"user","content":"Say it 200 times."}]}""");

        using var response = await _agent.Http.SendAsync(request);

        var record = await _agent.RecordForAsync(response);
        Assert.True(record.ReferenceOutputTokens >= 200, $"{record.ReferenceOutputTokens} reference tokens for 200 words");
        Assert.Equal("native_floored", record.UnitsBasis);
        Assert.Equal((record.ReferenceInputTokens + (2 * record.ReferenceOutputTokens)) * 1_000_000, record.UnitsMicro);
    }
}
