using System.Diagnostics;
using System.Net;
using System.Text;
using MeterAgent.Tracing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using OpenTelemetry.Trace;

namespace MeterAgent.IntegrationTests;

/// <summary>
/// Tracing off, the default: no tracer provider, and the agent is not a hop in anyone's trace: the upstream gets the
/// client's trace context exactly as sent, and none when the client sent none.
/// </summary>
public sealed class TracingOffTests : IAsyncLifetime
{
    private TestAgent _agent = null!;
    private HttpClient _client = null!;

    public async Task InitializeAsync()
    {
        _agent = await TestAgent.StartAsync(recordRequests: true);
        _client = TracingTests.UntracedClient(_agent);
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _agent.DisposeAsync();
    }

    private HttpRequestMessage Chat(string content) => _agent.OpenAIRequest("v1/chat/completions",
        $$"""{"model":"emu-chat","max_tokens":8,"messages":[{"role":"user","content":"{{content}}"}]}""");

    [Fact]
    public async Task Nothing_records_spans_and_a_request_without_trace_context_goes_upstream_without_one()
    {
        Assert.Null(_agent.Services.GetService<TracerProvider>());
        Assert.False(TracingOptions.IsEnabled(_agent.Services.GetRequiredService<IConfiguration>()));

        using var response = await _client.SendAsync(Chat("untraced"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var received = Assert.Single(_agent.Emulator.Received, r => r.Body.Contains("untraced", StringComparison.Ordinal));
        Assert.False(received.Headers.ContainsKey("traceparent"), $"traceparent: {received.Headers.GetValueOrDefault("traceparent")}");
        Assert.False(received.Headers.ContainsKey("tracestate"));
    }

    [Fact]
    public async Task The_clients_trace_context_reaches_the_upstream_unchanged()
    {
        var traceparent = $"00-{ActivityTraceId.CreateRandom()}-{ActivitySpanId.CreateRandom()}-01";
        var request = Chat("traced by the client");
        request.Headers.Add("traceparent", traceparent);
        request.Headers.Add("tracestate", "vendor=1");
        using var response = await _client.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);

        var received = Assert.Single(_agent.Emulator.Received, r => r.Body.Contains("traced by the client", StringComparison.Ordinal));
        Assert.Equal(traceparent, received.Headers["traceparent"]);
        Assert.Equal("vendor=1", received.Headers["tracestate"]);
    }
}

/// <summary>OTEL_EXPORTER_OTLP_ENDPOINT alone turns tracing on, and spans leave over OTLP/HTTP to that collector.</summary>
[Collection(TracingTests.Collection)]
public sealed class TracingOtlpTests
{
    [Fact]
    public async Task The_OTLP_endpoint_alone_turns_tracing_on_and_the_span_is_exported_to_it()
    {
        await using var collector = await OtlpReceiver.StartAsync();
        await using var agent = await TestAgent.StartAsync(settings: new Dictionary<string, string?>
        {
            [TracingOptions.OtlpEndpointVariable] = collector.Url,
            ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
            ["OTEL_BSP_SCHEDULE_DELAY"] = "100",
        });
        Assert.NotNull(agent.Services.GetService<TracerProvider>());

        using var client = TracingTests.UntracedClient(agent);
        using var response = await client.SendAsync(agent.OpenAIRequest("v1/chat/completions",
            """{"model":"emu-chat","max_tokens":8,"messages":[{"role":"user","content":"export me"}]}"""));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var usageId = response.Headers.GetValues("x-meteragent-usage-id").Single();

        // Protobuf keeps strings as UTF-8 bytes: the span's name and its usage id are in some export.
        var export = await Eventually.ThatAsync(
            () => collector.Exports.FirstOrDefault(e => Contains(e.Body, usageId)),
            e => e is not null, "an OTLP export holding the span");
        Assert.Equal("/v1/traces", export!.Path);
        Assert.Equal("application/x-protobuf", export.ContentType);
        Assert.True(Contains(export.Body, "chat emu-chat"));
        Assert.True(Contains(export.Body, "gen_ai.usage.input_tokens"));
        Assert.True(Contains(export.Body, "meteragent"), "service.name meteragent");
    }

    [Fact]
    public async Task A_sample_ratio_outside_0_to_1_stops_start_up_naming_the_key()
    {
        var failure = await Assert.ThrowsAsync<OptionsValidationException>(() => TestAgent.StartAsync(settings: new Dictionary<string, string?>
        {
            ["Tracing:Enabled"] = "true",
            ["Tracing:Exporter"] = "none",
            ["Tracing:SampleRatio"] = "1.5",
        }));
        Assert.Contains("Tracing:SampleRatio", failure.Message, StringComparison.Ordinal);
    }

    private static bool Contains(byte[] body, string text) => body.AsSpan().IndexOf(Encoding.UTF8.GetBytes(text)) >= 0;
}
