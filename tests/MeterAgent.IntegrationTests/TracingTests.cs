using System.Diagnostics;
using System.Net;
using System.Text.Json;
using MeterAgent.Ledger.Usage;
using OpenTelemetry.Trace;

namespace MeterAgent.IntegrationTests;

/// <summary>
/// Tracing on, spans captured by OpenTelemetry's in-memory exporter: one GenAI span per metered request with what
/// metering knows, W3C trace context carried to the upstream, and nothing secret in any attribute.
/// </summary>
/// <remarks>
/// Activity listeners are process-wide: a tracer provider also sees other agents' spans, and its sampler takes part
/// in every source's decision. The classes that turn tracing on share one collection, so they do not run at once.
/// </remarks>
[Collection(Collection)]
public sealed class TracingTests : IAsyncLifetime
{
    public const string Collection = "tracing on";

    private const string Prompt = "Tell the tracer about the lighthouse keeper's secret garden";

    private readonly SpanSink _spans = new();
    private TestAgent _agent = null!;
    private HttpClient _client = null!;

    public async Task InitializeAsync()
    {
        _agent = await TracedAgentAsync(_spans);

        // A client that sends trace context only when a test puts it on the request (listeners are process-wide, and
        // HttpClient would otherwise inject its own while any test traces).
        _client = UntracedClient(_agent);
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _agent.DisposeAsync();
    }

    internal static Task<TestAgent> TracedAgentAsync(SpanSink spans, IDictionary<string, string?>? settings = null)
    {
        var all = new Dictionary<string, string?>
        {
            ["Tracing:Enabled"] = "true",
            ["Tracing:Exporter"] = "none",
            ["ReverseProxy:Clusters:openai:HttpRequest:ActivityTimeout"] = "00:00:05",
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            all[key] = value;
        }

        return TestAgent.StartAsync(settings: all, recordRequests: true,
            services: services => services.ConfigureOpenTelemetryTracerProvider(tracing => tracing.AddInMemoryExporter(spans)));
    }

    internal static HttpClient UntracedClient(TestAgent agent) =>
        new(new SocketsHttpHandler { ActivityHeadersPropagator = null }) { BaseAddress = new Uri(agent.ProxyUrl), Timeout = TimeSpan.FromSeconds(30) };

    private static string UsageId(HttpResponseMessage response) => response.Headers.GetValues("x-meteragent-usage-id").Single();

    private static object? Tag(Activity span, string name) => span.GetTagItem(name);

    [Fact]
    public async Task A_chat_request_has_one_internal_GenAI_span_under_ASP_NET_Cores_server_span_with_what_metering_knows()
    {
        using var response = await _client.SendAsync(_agent.OpenAIRequest("v1/chat/completions",
            $$"""{"model":"emu-chat","max_tokens":24,"messages":[{"role":"user","content":"{{Prompt}}"}]}"""));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var span = await _spans.SpanOfUsageAsync(UsageId(response));
        var record = await _agent.RecordForAsync(response);

        Assert.Equal("chat emu-chat", span.DisplayName);
        Assert.Equal(ActivityKind.Internal, span.Kind);
        Assert.Equal(ActivityStatusCode.Unset, span.Status);
        Assert.Equal("chat", Tag(span, "gen_ai.operation.name"));
        Assert.Equal("openai", Tag(span, "gen_ai.provider.name"));
        Assert.Equal("emu-chat", Tag(span, "gen_ai.request.model"));
        Assert.Equal(24L, Tag(span, "gen_ai.request.max_tokens"));
        Assert.Equal(record.ServedModel, Tag(span, "gen_ai.response.model"));
        Assert.Equal("native", Tag(span, "meteragent.token_counts"));
        Assert.Equal(record.NativeInputTokens, Tag(span, "gen_ai.usage.input_tokens"));
        Assert.Equal(record.NativeOutputTokens, Tag(span, "gen_ai.usage.output_tokens"));
        Assert.Equal(record.ReferenceInputTokens, Tag(span, "meteragent.usage.reference_input_tokens"));
        Assert.Equal(record.ReferenceOutputTokens, Tag(span, "meteragent.usage.reference_output_tokens"));
        Assert.Equal(_agent.AccountId, Tag(span, "meteragent.account_id"));
        Assert.Equal("completed", Tag(span, "meteragent.status"));
        Assert.Equal(false, Tag(span, "meteragent.stream"));
        Assert.Equal("127.0.0.1", Tag(span, "server.address"));
        Assert.Equal(_agent.Emulator.BaseAddress.Port, Tag(span, "server.port"));
        Assert.Null(Tag(span, "error.type"));
        Assert.Null(Tag(span, "meteragent.contract"));

        // Its parent is the SERVER span ASP.NET Core made for the client's HTTP request, in the same trace.
        var server = await Eventually.ThatAsync(
            () => _spans.Snapshot().FirstOrDefault(s => s.SpanId == span.ParentSpanId),
            s => s is not null, "the ASP.NET Core span");
        Assert.Equal(ActivityKind.Server, server!.Kind);
        Assert.Equal(span.TraceId, server.TraceId);

        // The span lasts as long as the request did, not as long as settlement.
        Assert.True(span.Duration > TimeSpan.Zero);
    }

    [Fact]
    public async Task A_chat_stream_span_carries_the_streams_native_usage_and_its_first_token()
    {
        using var response = await _client.SendAsync(_agent.OpenAIRequest("v1/chat/completions",
            """{"model":"emu-chat","stream":true,"max_tokens":16,"messages":[{"role":"user","content":"stream to the tracer"}]}"""));
        await response.Content.ReadAsStringAsync();
        var span = await _spans.SpanOfUsageAsync(UsageId(response));
        var record = await _agent.RecordForAsync(response);

        Assert.Equal("chat emu-chat", span.DisplayName);
        Assert.Equal(true, Tag(span, "meteragent.stream"));
        Assert.Equal("native", Tag(span, "meteragent.token_counts"));
        Assert.Equal(record.NativeInputTokens, Tag(span, "gen_ai.usage.input_tokens"));
        Assert.Equal(record.NativeOutputTokens, Tag(span, "gen_ai.usage.output_tokens"));
        Assert.Equal(16L, Tag(span, "gen_ai.request.max_tokens"));
        var firstToken = Assert.Single(span.Events, e => e.Name == "meteragent.first_token");
        // The record keeps microseconds; the event has the clock's ticks.
        Assert.True((firstToken.Timestamp - record.FirstTokenAt!.Value).Duration() < TimeSpan.FromMilliseconds(1), $"{firstToken.Timestamp:O} vs {record.FirstTokenAt:O}");
    }

    [Fact]
    public async Task Without_native_usage_the_span_counts_are_the_reference_counts()
    {
        var request = _agent.OpenAIRequest("v1/chat/completions",
            """{"model":"emu-chat","stream":true,"max_tokens":12,"messages":[{"role":"user","content":"no usage please"}]}""");
        request.Headers.Add("x-emulator-fault", "no-usage");
        using var response = await _client.SendAsync(request);
        await response.Content.ReadAsStringAsync();
        var span = await _spans.SpanOfUsageAsync(UsageId(response));
        var record = await _agent.RecordForAsync(response);

        Assert.False(record.NativeReported);
        Assert.Equal("reference", Tag(span, "meteragent.token_counts"));
        Assert.Equal(record.ReferenceInputTokens, Tag(span, "gen_ai.usage.input_tokens"));
        Assert.Equal(record.ReferenceOutputTokens, Tag(span, "gen_ai.usage.output_tokens"));
    }

    [Fact]
    public async Task An_Anthropic_messages_span_names_the_anthropic_provider()
    {
        using var response = await _client.SendAsync(_agent.AnthropicRequest(
            """{"model":"emu-claude","max_tokens":20,"messages":[{"role":"user","content":"hi tracer"}]}"""));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var span = await _spans.SpanOfUsageAsync(UsageId(response));
        var record = await _agent.RecordForAsync(response);

        Assert.Equal("chat emu-claude", span.DisplayName);
        Assert.Equal("chat", Tag(span, "gen_ai.operation.name"));
        Assert.Equal("anthropic", Tag(span, "gen_ai.provider.name"));
        Assert.Equal(20L, Tag(span, "gen_ai.request.max_tokens"));
        Assert.Equal(record.ServedModel, Tag(span, "gen_ai.response.model"));
        Assert.Equal(record.NativeInputTokens, Tag(span, "gen_ai.usage.input_tokens"));
        Assert.Equal(record.NativeOutputTokens, Tag(span, "gen_ai.usage.output_tokens"));
    }

    [Fact]
    public async Task An_embeddings_span_has_input_tokens_and_no_output_tokens()
    {
        using var response = await _client.SendAsync(_agent.OpenAIRequest("v1/embeddings",
            """{"model":"emu-embed","input":["one line for the tracer","and another"]}"""));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var span = await _spans.SpanOfUsageAsync(UsageId(response));
        var record = await _agent.RecordForAsync(response);

        Assert.Equal("embeddings emu-embed", span.DisplayName);
        Assert.Equal("embeddings", Tag(span, "gen_ai.operation.name"));
        Assert.Equal("openai", Tag(span, "gen_ai.provider.name"));
        Assert.Equal(record.NativeInputTokens ?? record.ReferenceInputTokens, Tag(span, "gen_ai.usage.input_tokens"));
        Assert.Null(Tag(span, "gen_ai.usage.output_tokens"));
        Assert.Null(Tag(span, "gen_ai.request.max_tokens"));
    }

    [Fact]
    public async Task An_upstream_error_status_is_the_spans_error_type()
    {
        var request = _agent.OpenAIRequest("v1/chat/completions",
            """{"model":"emu-chat","max_tokens":8,"messages":[{"role":"user","content":"fail"}]}""");
        request.Headers.Add("x-emulator-fault", "error:503");
        using var response = await _client.SendAsync(request);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        var span = await _spans.SpanOfUsageAsync(UsageId(response));

        Assert.Equal("503", Tag(span, "error.type"));
        Assert.Equal("upstream_error", Tag(span, "meteragent.status"));
        Assert.Equal(ActivityStatusCode.Error, span.Status);
    }

    [Fact]
    public async Task A_stream_the_upstream_breaks_off_after_its_200_is_an_upstream_failed_error()
    {
        var request = _agent.OpenAIRequest("v1/chat/completions",
            """{"model":"emu-chat","stream":true,"max_tokens":40,"messages":[{"role":"user","content":"break"}]}""");
        request.Headers.Add("x-emulator-fault", "disconnect");
        using var response = await _client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        try
        {
            await response.Content.ReadAsStringAsync();
        }
        catch (HttpRequestException)
        {
            // YARP aborts the client's connection when the upstream breaks off.
        }
        catch (IOException)
        {
        }

        var span = await _spans.SpanOfUsageAsync(UsageId(response));
        Assert.Equal("upstream_failed", Tag(span, "error.type"));
        Assert.Equal("upstream_failed", Tag(span, "meteragent.status"));
        Assert.Equal(ActivityStatusCode.Error, span.Status);
    }

    [Fact]
    public async Task A_refused_request_is_an_error_span_with_its_status_and_a_key_refused_before_metering_too()
    {
        using var bad = await _client.SendAsync(_agent.OpenAIRequest("v1/chat/completions", """{"max_tokens":8,"messages":[]}"""));
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        var rejected = await _spans.SpanOfUsageAsync(UsageId(bad));
        Assert.Equal("chat", rejected.DisplayName);
        Assert.Equal("400", Tag(rejected, "error.type"));
        Assert.Equal("rejected", Tag(rejected, "meteragent.status"));
        Assert.Null(Tag(rejected, "gen_ai.usage.input_tokens"));

        var traceId = ActivityTraceId.CreateRandom();
        var request = _agent.OpenAIRequest("v1/chat/completions", """{"model":"emu-chat","messages":[]}""", key: "sk-not-a-key-of-this-agent");
        request.Headers.Add("traceparent", $"00-{traceId}-{ActivitySpanId.CreateRandom()}-01");
        using var unknown = await _client.SendAsync(request);
        Assert.Equal(HttpStatusCode.Unauthorized, unknown.StatusCode);
        var refused = await Eventually.ThatAsync(
            () => _spans.Snapshot().FirstOrDefault(s => s.Source.Name == "MeterAgent" && s.TraceId == traceId),
            s => s is not null, "the span of the refused key");
        Assert.Equal("401", Tag(refused!, "error.type"));
        Assert.Equal(ActivityStatusCode.Error, refused!.Status);
    }

    [Fact]
    public async Task The_upstream_gets_a_traceparent_in_the_clients_trace_whose_parent_is_the_agents_span()
    {
        var clientTrace = ActivityTraceId.CreateRandom();
        var clientSpan = ActivitySpanId.CreateRandom();
        var request = _agent.OpenAIRequest("v1/chat/completions",
            """{"model":"emu-chat","max_tokens":8,"messages":[{"role":"user","content":"propagate"}]}""");
        request.Headers.Add("traceparent", $"00-{clientTrace}-{clientSpan}-01");
        request.Headers.Add("tracestate", "client=abc");
        using var response = await _client.SendAsync(request);
        var span = await _spans.SpanOfUsageAsync(UsageId(response));

        // The client's trace is continued: same trace id, ASP.NET Core's span a child of the client's span.
        Assert.Equal(clientTrace, span.TraceId);
        var server = _spans.Snapshot().Single(s => s.SpanId == span.ParentSpanId);
        Assert.Equal(clientSpan, server.ParentSpanId);

        var upstream = ReceivedTraceparent(span.TraceId);
        Assert.Equal(clientTrace.ToHexString(), upstream.TraceId);

        // The upstream's parent is the agent's HTTP client span for the call, a child of the GenAI span.
        var parent = await Eventually.ThatAsync(
            () => _spans.Snapshot().FirstOrDefault(s => s.SpanId.ToHexString() == upstream.ParentId),
            s => s is not null, "the span the upstream's traceparent names");
        Assert.Equal(ActivityKind.Client, parent!.Kind);
        Assert.Equal(span.SpanId, parent.ParentSpanId);
        Assert.Equal("client=abc", Assert.Single(_agent.Emulator.Received, r => r.Headers.GetValueOrDefault("traceparent")?.Contains(clientTrace.ToHexString(), StringComparison.Ordinal) == true).Headers["tracestate"]);
    }

    [Fact]
    public async Task A_request_without_trace_context_starts_a_trace_the_upstream_joins()
    {
        using var response = await _client.SendAsync(_agent.OpenAIRequest("v1/chat/completions",
            """{"model":"emu-chat","max_tokens":8,"messages":[{"role":"user","content":"new trace"}]}"""));
        var span = await _spans.SpanOfUsageAsync(UsageId(response));

        var upstream = ReceivedTraceparent(span.TraceId);
        Assert.Equal(span.TraceId.ToHexString(), upstream.TraceId);
        Assert.Equal("01", upstream.Flags);
    }

    [Fact]
    public async Task No_attribute_of_any_span_holds_a_key_the_prompt_or_the_completion()
    {
        using var response = await _client.SendAsync(_agent.OpenAIRequest("v1/chat/completions",
            $$"""{"model":"emu-chat","max_tokens":24,"messages":[{"role":"system","content":"{{Prompt}}"},{"role":"user","content":"{{Prompt}}"}]}"""));
        var completion = JsonDocument.Parse(await response.Content.ReadAsStringAsync())
            .RootElement.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString()!;
        using var stream = await _client.SendAsync(_agent.AnthropicRequest(
            $$"""{"model":"emu-claude","max_tokens":24,"stream":true,"messages":[{"role":"user","content":"{{Prompt}}"}]}"""));
        await stream.Content.ReadAsStringAsync();
        var span = await _spans.SpanOfUsageAsync(UsageId(response));
        await _spans.SpanOfUsageAsync(UsageId(stream));

        var secrets = new[] { _agent.ClientKey, TestAgent.UpstreamKey, Prompt, "lighthouse keeper", completion[..Math.Min(24, completion.Length)] };
        var all = _spans.Snapshot();
        Assert.Contains(all, s => s.TraceId == span.TraceId && s.Kind == ActivityKind.Server);
        Assert.Contains(all, s => s.TraceId == span.TraceId && s.Kind == ActivityKind.Client);
        foreach (var exported in all)
        {
            var texts = new List<string?> { exported.DisplayName, exported.OperationName, exported.StatusDescription };
            texts.AddRange(exported.TagObjects.Select(tag => $"{tag.Key}={tag.Value}"));
            texts.AddRange(exported.Events.SelectMany(e => e.Tags.Select(tag => $"{e.Name}:{tag.Key}={tag.Value}").Append(e.Name)));
            texts.AddRange(exported.Baggage.Select(item => $"{item.Key}={item.Value}"));
            foreach (var text in texts.OfType<string>())
            {
                foreach (var secret in secrets)
                {
                    Assert.False(text.Contains(secret, StringComparison.Ordinal), $"span '{exported.DisplayName}' has '{text}'");
                }
            }
        }
    }

    /// <summary>The traceparent the emulator received in the trace, split into its fields.</summary>
    private (string TraceId, string ParentId, string Flags) ReceivedTraceparent(ActivityTraceId traceId)
    {
        var header = Assert.Single(
            _agent.Emulator.Received.Select(r => r.Headers.GetValueOrDefault("traceparent")),
            value => value?.Contains(traceId.ToHexString(), StringComparison.Ordinal) == true)!;
        var parts = header.Split('-');
        Assert.Equal(4, parts.Length);
        Assert.Equal("00", parts[0]);
        return (parts[1], parts[2], parts[3]);
    }
}

/// <summary>A credited request's span names the contract it redeemed under and the basis of its units.</summary>
[Collection(TracingTests.Collection)]
public sealed class TracingCreditsTests : IAsyncLifetime
{
    private readonly SpanSink _spans = new();
    private ClearingHouse _house = null!;
    private TestAgent _agent = null!;

    public async Task InitializeAsync()
    {
        _house = ClearingHouse.Create();
        _agent = await TracingTests.TracedAgentAsync(_spans, _house.AgentSettings());
    }

    public async Task DisposeAsync()
    {
        await _agent.DisposeAsync();
        _house.Dispose();
    }

    [Fact]
    public async Task A_redeemed_request_names_its_contract_and_units_basis()
    {
        await ClearingHouse.DeliverAsync(_agent.Admin, _house.Notice(_agent.AccountId, 1000m));
        using var client = TracingTests.UntracedClient(_agent);
        using var response = await client.SendAsync(_agent.OpenAIRequest("v1/chat/completions",
            """{"model":"emu-chat","max_tokens":16,"messages":[{"role":"user","content":"spend"}]}"""));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var span = await _spans.SpanOfUsageAsync(response.Headers.GetValues("x-meteragent-usage-id").Single());
        var record = await _agent.RecordForAsync(response);

        Assert.Equal(ClearingHouse.ContractId, span.GetTagItem("meteragent.contract"));
        Assert.Equal(record.UnitsBasis, span.GetTagItem("meteragent.units_basis"));
        Assert.Equal("reference", span.GetTagItem("meteragent.units_basis"));
        Assert.Equal(UsageStatus.Completed, record.Status);
    }
}

/// <summary>Tracing:SampleRatio decides by trace id: a trace sampled out records no span, yet its context still goes upstream.</summary>
[Collection(TracingTests.Collection)]
public sealed class TracingSamplingTests
{
    [Fact]
    public async Task A_trace_sampled_out_records_nothing_and_the_upstream_gets_its_context_unsampled()
    {
        var spans = new SpanSink();
        await using var agent = await TracingTests.TracedAgentAsync(spans, new Dictionary<string, string?> { ["Tracing:SampleRatio"] = "0" });
        using var client = TracingTests.UntracedClient(agent);
        var traceId = ActivityTraceId.CreateRandom();
        var request = agent.OpenAIRequest("v1/chat/completions", """{"model":"emu-chat","max_tokens":8,"messages":[{"role":"user","content":"sampled out"}]}""");

        // Even a client that says "sampled" does not make the agent record: the ratio decides.
        request.Headers.Add("traceparent", $"00-{traceId}-{ActivitySpanId.CreateRandom()}-01");
        using var response = await client.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        await agent.RecordForAsync(response);

        var received = Assert.Single(agent.Emulator.Received);
        var parts = received.Headers["traceparent"].Split('-');
        Assert.Equal(traceId.ToHexString(), parts[1]);
        Assert.Equal("00", parts[3]);
        Assert.DoesNotContain(spans.Snapshot(), span => span.TraceId == traceId);
    }
}
