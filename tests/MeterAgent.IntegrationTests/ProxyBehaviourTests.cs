using System.Net;
using System.Text;
using MeterAgent.Emulator;
using MeterAgent.Ledger.Usage;

namespace MeterAgent.IntegrationTests;

/// <summary>What a client sees on the wire, and what the record says, for the cases SDKs do not exercise.</summary>
public sealed class ProxyBehaviourTests : IAsyncLifetime
{
    private TestAgent _agent = null!;

    public async Task InitializeAsync() => _agent = await TestAgent.StartAsync(settings: new Dictionary<string, string?>
    {
        ["MeterAgent:MaxRequestBodyBytes"] = "65536",
        ["ReverseProxy:Clusters:openai:HttpRequest:ActivityTimeout"] = "00:00:02",
    });

    public async Task DisposeAsync() => await _agent.DisposeAsync();

    private const string StreamWithoutUsage =
        """{"model":"emu-chat","stream":true,"max_tokens":30,"messages":[{"role":"user","content":"Say something with café and 数据"}]}""";

    [Fact]
    public async Task Usage_chunk_the_proxy_asked_for_is_hidden_and_everything_else_is_byte_identical()
    {
        using var viaProxy = await _agent.Http.SendAsync(_agent.OpenAIRequest("v1/chat/completions", StreamWithoutUsage));
        Assert.Equal(HttpStatusCode.OK, viaProxy.StatusCode);
        var proxied = await viaProxy.Content.ReadAsStringAsync();

        // What the upstream sends when asked for usage, minus the usage-only chunk, is what the client must get.
        var withUsage = StreamWithoutUsage.Replace("\"stream\":true", "\"stream\":true,\"stream_options\":{\"include_usage\":true}", StringComparison.Ordinal);
        using var direct = new HttpClient();
        using var upstreamRequest = new HttpRequestMessage(HttpMethod.Post, _agent.Emulator.Url + "v1/chat/completions")
        {
            Content = new StringContent(withUsage, Encoding.UTF8, "application/json"),
        };
        upstreamRequest.Headers.Authorization = new("Bearer", TestAgent.UpstreamKey);
        using var upstreamResponse = await direct.SendAsync(upstreamRequest);
        var upstream = await upstreamResponse.Content.ReadAsStringAsync();
        var events = upstream.Split("\n\n", StringSplitOptions.None);
        var usageEvents = events.Where(e => e.Contains("\"choices\":[]", StringComparison.Ordinal) && e.Contains("\"usage\":{", StringComparison.Ordinal)).ToList();
        Assert.Single(usageEvents);
        var expected = string.Join("\n\n", events.Where(e => !usageEvents.Contains(e)));

        Assert.Equal(expected, proxied);
        Assert.DoesNotContain("\"prompt_tokens\"", proxied, StringComparison.Ordinal);

        var record = await _agent.RecordForAsync(viaProxy);
        Assert.Equal(UsageStatus.Completed, record.Status);
        Assert.Equal("native", record.Quality);
        Assert.True(record.NativeOutputTokens > 0);
    }

    [Fact]
    public async Task Legacy_completions_stream_is_metered()
    {
        using var response = await _agent.Http.SendAsync(_agent.OpenAIRequest("v1/completions",
            """{"model":"emu-text","prompt":["one","two"],"stream":true,"max_tokens":12}"""));
        var body = await response.Content.ReadAsStringAsync();
        Assert.EndsWith("data: [DONE]\n\n", body, StringComparison.Ordinal);
        var record = await _agent.RecordForAsync(response);
        Assert.Equal(UsageStatus.Completed, record.Status);
        Assert.Equal("openai.completions", record.Surface);
        Assert.Equal("native", record.Quality);
        Assert.True(record.ReferenceOutputTokens > 0);
    }

    [Theory]
    [InlineData("{\"model\":", "invalid_request")]
    [InlineData("[1,2,3]", "invalid_request")]
    [InlineData("{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}", "invalid_request")]
    public async Task Bad_json_gets_400_in_openai_shape_and_a_rejected_record(string body, string code)
    {
        var before = _agent.Emulator.Stats.RequestsReceived;
        using var response = await _agent.Http.SendAsync(_agent.OpenAIRequest("v1/chat/completions", body));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var json = await TestAgent.JsonAsync(response);
        Assert.Equal(code, json.GetProperty("error").GetProperty("code").GetString());
        Assert.False(string.IsNullOrEmpty(json.GetProperty("error").GetProperty("message").GetString()));

        var record = await _agent.RecordForAsync(response);
        Assert.Equal(UsageStatus.Rejected, record.Status);
        Assert.Equal(400, record.HttpStatus);
        Assert.Equal(before, _agent.Emulator.Stats.RequestsReceived);
    }

    [Fact]
    public async Task Admin_usage_filters_by_status_and_refuses_an_unknown_one()
    {
        using var rejected = await _agent.Http.SendAsync(_agent.OpenAIRequest("v1/chat/completions", "{\"model\":"));
        var rejectedId = (await _agent.RecordForAsync(rejected)).Id;
        using var served = await _agent.Http.SendAsync(_agent.OpenAIRequest("v1/chat/completions",
            """{"model":"emu-chat","max_tokens":4,"messages":[{"role":"user","content":"hi"}]}"""));
        var servedId = (await _agent.RecordForAsync(served)).Id;

        var onlyRejected = await TestAgent.JsonAsync(await _agent.Admin.GetAsync("admin/usage?status=rejected&limit=1000"));
        var ids = onlyRejected.GetProperty("records").EnumerateArray().Select(r => r.GetProperty("id").GetString()).ToList();
        Assert.Contains(rejectedId, ids);
        Assert.DoesNotContain(servedId, ids);
        Assert.All(onlyRejected.GetProperty("records").EnumerateArray(), r => Assert.Equal("rejected", r.GetProperty("status").GetString()));

        using var unknown = await _agent.Admin.GetAsync("admin/usage?status=paid");
        Assert.Equal(HttpStatusCode.BadRequest, unknown.StatusCode);
        Assert.Contains("'status'", (await TestAgent.JsonAsync(unknown)).GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Missing_model_on_anthropic_gets_anthropic_shape()
    {
        using var response = await _agent.Http.SendAsync(_agent.AnthropicRequest("""{"max_tokens":10,"messages":[]}"""));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var json = await TestAgent.JsonAsync(response);
        Assert.Equal("error", json.GetProperty("type").GetString());
        Assert.Equal("invalid_request_error", json.GetProperty("error").GetProperty("type").GetString());
    }

    [Fact]
    public async Task Wrong_content_type_gets_415()
    {
        var request = _agent.OpenAIRequest("v1/chat/completions", "model=x");
        request.Content = new StringContent("model=x", Encoding.UTF8, "application/x-www-form-urlencoded");
        using var response = await _agent.Http.SendAsync(request);
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
        Assert.Equal("unsupported_media_type", (await TestAgent.JsonAsync(response)).GetProperty("error").GetProperty("code").GetString());
    }

    [Fact]
    public async Task Body_over_the_limit_gets_413_and_never_reaches_upstream()
    {
        var before = _agent.Emulator.Stats.RequestsReceived;
        var huge = "{\"model\":\"emu-chat\",\"messages\":[{\"role\":\"user\",\"content\":\"" + new string('x', 70_000) + "\"}]}";
        using var response = await _agent.Http.SendAsync(_agent.OpenAIRequest("v1/chat/completions", huge));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Equal("request_too_large", (await TestAgent.JsonAsync(response)).GetProperty("error").GetProperty("code").GetString());
        Assert.Equal(before, _agent.Emulator.Stats.RequestsReceived);
    }

    [Fact]
    public async Task Missing_and_unknown_keys_get_401_in_each_apis_shape()
    {
        var openAi = _agent.OpenAIRequest("v1/chat/completions", StreamWithoutUsage);
        openAi.Headers.Authorization = null;
        using var missing = await _agent.Http.SendAsync(openAi);
        Assert.Equal(HttpStatusCode.Unauthorized, missing.StatusCode);
        Assert.Equal("invalid_api_key", (await TestAgent.JsonAsync(missing)).GetProperty("error").GetProperty("code").GetString());

        using var unknown = await _agent.Http.SendAsync(_agent.AnthropicRequest("""{"model":"m","max_tokens":5,"messages":[]}""", key: "ma-unknown"));
        Assert.Equal(HttpStatusCode.Unauthorized, unknown.StatusCode);
        var json = await TestAgent.JsonAsync(unknown);
        Assert.Equal("authentication_error", json.GetProperty("error").GetProperty("type").GetString());
    }

    [Fact]
    public async Task A_revoked_key_stops_working_at_once()
    {
        var issued = await _agent.Admin.PostAsync($"admin/accounts/{_agent.AccountId}/keys", null);
        Assert.Equal(HttpStatusCode.Created, issued.StatusCode);
        var key = await TestAgent.JsonAsync(issued);
        var secret = key.GetProperty("key").GetString()!;

        using var ok = await _agent.Http.SendAsync(_agent.OpenAIRequest("v1/chat/completions", """{"model":"emu-chat","messages":[{"role":"user","content":"hi"}]}""", secret));
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);

        var revoked = await _agent.Admin.DeleteAsync($"admin/keys/{key.GetProperty("key_id").GetString()}");
        Assert.Equal(HttpStatusCode.NoContent, revoked.StatusCode);

        using var refused = await _agent.Http.SendAsync(_agent.OpenAIRequest("v1/chat/completions", """{"model":"emu-chat","messages":[{"role":"user","content":"hi"}]}""", secret));
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
    }

    [Fact]
    public async Task Unknown_route_is_refused_in_openai_shape_and_not_forwarded()
    {
        var before = _agent.Emulator.Stats.RequestsReceived;
        using var response = await _agent.Http.SendAsync(_agent.OpenAIRequest("v1/audio/speech", """{"model":"tts"}"""));
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("unknown_url", (await TestAgent.JsonAsync(response)).GetProperty("error").GetProperty("code").GetString());
        Assert.Equal(before, _agent.Emulator.Stats.RequestsReceived);
    }

    [Fact]
    public async Task Route_configured_as_unmetered_is_forwarded_behind_client_keys()
    {
        using var anonymous = await _agent.Http.GetAsync("v1/models");
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);

        using var request = new HttpRequestMessage(HttpMethod.Get, "v1/models");
        request.Headers.Authorization = new("Bearer", _agent.ClientKey);
        using var response = await _agent.Http.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.False(response.Headers.Contains("x-meteragent-usage-id"));
    }

    [Fact]
    public async Task Management_and_client_ports_do_not_serve_each_other()
    {
        using var adminOnProxy = await _agent.Http.GetAsync("admin/accounts");
        Assert.Equal(HttpStatusCode.NotFound, adminOnProxy.StatusCode);

        using var apiOnManagement = await _agent.Admin.SendAsync(_agent.OpenAIRequest("v1/chat/completions", StreamWithoutUsage));
        Assert.Equal(HttpStatusCode.NotFound, apiOnManagement.StatusCode);

        using var live = await _agent.Admin.GetAsync("healthz/live");
        Assert.Equal(HttpStatusCode.OK, live.StatusCode);
        using var ready = await _agent.Admin.GetAsync("healthz/ready");
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
    }

    [Fact]
    public async Task Admin_api_needs_the_admin_token()
    {
        using var anonymous = new HttpClient { BaseAddress = new Uri(_agent.ManagementUrl) };
        using var response = await anonymous.GetAsync("admin/accounts");
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task Upstream_error_status_is_passed_through_and_recorded()
    {
        var request = _agent.OpenAIRequest("v1/chat/completions", """{"model":"emu-chat","messages":[{"role":"user","content":"hi"}]}""");
        request.Headers.Add("x-emulator-fault", "error:503");
        using var response = await _agent.Http.SendAsync(request);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        var record = await _agent.RecordForAsync(response);
        Assert.Equal(UsageStatus.UpstreamError, record.Status);
        Assert.Equal(503, record.HttpStatus);
    }

    [Fact]
    public async Task Upstream_without_usage_is_recorded_as_estimated_with_reference_counts()
    {
        var request = _agent.AnthropicRequest("""{"model":"emu-claude","max_tokens":20,"stream":true,"messages":[{"role":"user","content":"hi"}]}""");
        request.Headers.Add("x-emulator-fault", "no-usage");
        using var response = await _agent.Http.SendAsync(request);
        await response.Content.ReadAsStringAsync();
        var record = await _agent.RecordForAsync(response);
        Assert.Equal(UsageStatus.Completed, record.Status);
        Assert.Equal("estimated", record.Quality);
        Assert.False(record.NativeReported);
        Assert.Null(record.NativeOutputTokens);
        Assert.True(record.ReferenceOutputTokens > 0);
        Assert.True(record.ReferenceInputTokens > 0);
    }

    [Fact]
    public async Task Upstream_breaking_off_a_stream_is_recorded_as_upstream_failed_with_what_was_delivered()
    {
        var request = _agent.OpenAIRequest("v1/chat/completions", """{"model":"emu-chat","stream":true,"max_tokens":40,"messages":[{"role":"user","content":"hi"}]}""");
        request.Headers.Add("x-emulator-fault", "disconnect");
        using var response = await _agent.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        var usageId = response.Headers.GetValues("x-meteragent-usage-id").Single();
        await Assert.ThrowsAnyAsync<Exception>(() => response.Content.ReadAsStringAsync());
        var record = await _agent.RecordAsync(usageId);
        Assert.Equal(UsageStatus.UpstreamFailed, record.Status);
        Assert.True(record.ReferenceOutputTokens > 0, "the half that was delivered is metered");
    }

    [Fact]
    public async Task Upstream_that_never_answers_gets_504_in_api_shape()
    {
        var request = _agent.OpenAIRequest("v1/chat/completions", """{"model":"emu-chat","messages":[{"role":"user","content":"hi"}]}""");
        request.Headers.Add("x-emulator-fault", "hang");
        using var response = await _agent.Http.SendAsync(request);
        Assert.Equal(HttpStatusCode.GatewayTimeout, response.StatusCode);
        Assert.Equal("upstream_timeout", (await TestAgent.JsonAsync(response)).GetProperty("error").GetProperty("code").GetString());
        var record = await _agent.RecordForAsync(response);
        Assert.Equal(UsageStatus.UpstreamFailed, record.Status);
        Assert.Equal(504, record.HttpStatus);
    }

    [Fact]
    public async Task Client_leaving_mid_stream_is_charged_for_what_was_delivered()
    {
        // 64 tokens at 5 per second: about thirteen seconds of stream, of which the client reads the first few events.
        var request = _agent.OpenAIRequest("v1/chat/completions", """{"model":"emu-chat","stream":true,"messages":[{"role":"user","content":"long please"}]}""");
        request.Headers.Add("x-emulator-tokens-per-second", "5");

        // No draining on dispose: the client really hangs up, as a killed process would.
        using var client = new HttpClient(new SocketsHttpHandler { MaxResponseDrainSize = 0 }) { BaseAddress = new Uri(_agent.ProxyUrl) };
        var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        var usageId = response.Headers.GetValues("x-meteragent-usage-id").Single();
        var stream = await response.Content.ReadAsStreamAsync();
        var buffer = new byte[256];
        var read = 0;
        while (read < 300)
        {
            read += await stream.ReadAsync(buffer);
        }

        response.Dispose();

        var record = await _agent.RecordAsync(usageId);
        Assert.Equal(UsageStatus.ClientAborted, record.Status);
        Assert.True(record.ReferenceOutputTokens > 0);
        Assert.True(record.ReferenceOutputTokens < 20, $"only the start of the 64-token answer was delivered, got {record.ReferenceOutputTokens}");
    }
}

/// <summary>An upstream that is not there at all.</summary>
public sealed class UpstreamDownTests
{
    [Fact]
    public async Task Unreachable_upstream_gets_502_in_api_shape_and_is_recorded()
    {
        var deadPort = FreePort.Next();
        await using var agent = await TestAgent.StartAsync(new EmulatorOptions { RequiredApiKey = TestAgent.UpstreamKey }, new Dictionary<string, string?>
        {
            ["ReverseProxy:Clusters:anthropic:Destinations:primary:Address"] = $"http://127.0.0.1:{deadPort}/",
        });
        using var response = await agent.Http.SendAsync(agent.AnthropicRequest("""{"model":"emu-claude","max_tokens":5,"messages":[{"role":"user","content":"hi"}]}"""));
        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        var json = await TestAgent.JsonAsync(response);
        Assert.Equal("error", json.GetProperty("type").GetString());
        var record = await agent.RecordForAsync(response);
        Assert.Equal(UsageStatus.UpstreamFailed, record.Status);
        Assert.Equal(502, record.HttpStatus);
    }
}
