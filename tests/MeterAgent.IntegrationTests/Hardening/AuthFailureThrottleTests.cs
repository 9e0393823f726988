using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using MeterAgent.Attestation.Notes;

namespace MeterAgent.IntegrationTests.Hardening;

/// <summary>
/// Failed authentication is throttled per source address (MeterAgent:AuthFailureLimit a minute): past the limit the
/// address gets 429 in the port's own error shape with Retry-After, while other addresses, and their valid
/// credentials, are untouched.
/// </summary>
public sealed class AuthFailureThrottleTests : IAsyncLifetime
{
    private const int Limit = 3;
    private const string ReadToken = "clearing-house-read-token-for-throttle-tests";
    private const string Chat = """{"model":"emu-chat","max_tokens":4,"messages":[{"role":"user","content":"hi"}]}""";
    private readonly TempFolder _folder = new("meteragent-throttle-");
    private TestAgent _agent = null!;

    public async Task InitializeAsync()
    {
        var key = NoteKeyPair.Generate("meteragent.test/log");
        _agent = await TestAgent.StartAsync(settings: new Dictionary<string, string?>
        {
            ["MeterAgent:AuthFailureLimit"] = Limit.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Attestation:SigningKeyPath"] = _folder.Write("log.skey", key.SignerKey),
            ["Attestation:ReadToken"] = ReadToken,
        });
    }

    public async Task DisposeAsync()
    {
        await _agent.DisposeAsync();
        _folder.Dispose();
    }

    [Fact]
    public async Task Bad_client_keys_past_the_limit_get_429_in_the_api_shape_and_other_addresses_are_untouched()
    {
        using var attacker = LoopbackSource.Client(_agent.ProxyUrl, "127.0.0.2");
        for (var i = 0; i < Limit; i++)
        {
            using var request = _agent.OpenAIRequest("v1/chat/completions", Chat, key: $"sk-wrong-{i}");
            using var refused = await attacker.SendAsync(request);
            Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        }

        // Over the limit: even the right key is not looked at from this address.
        foreach (var key in new[] { "sk-wrong-again", _agent.ClientKey })
        {
            using var request = _agent.OpenAIRequest("v1/chat/completions", Chat, key: key);
            using var throttled = await attacker.SendAsync(request);
            Assert.Equal(HttpStatusCode.TooManyRequests, throttled.StatusCode);
            Assert.True(throttled.Headers.RetryAfter?.Delta is { } after && after > TimeSpan.Zero && after <= TimeSpan.FromMinutes(1), $"retry-after {throttled.Headers.RetryAfter}");
            var error = (await TestAgent.JsonAsync(throttled)).GetProperty("error");
            Assert.Equal("rate_limit_exceeded", error.GetProperty("code").GetString());
            Assert.Equal("rate_limit_error", error.GetProperty("type").GetString());
        }

        // The Anthropic shape for an Anthropic request, and the account API is throttled alike.
        using (var anthropic = _agent.AnthropicRequest("""{"model":"emu-chat","max_tokens":4,"messages":[{"role":"user","content":"hi"}]}"""))
        using (var throttled = await attacker.SendAsync(anthropic))
        {
            Assert.Equal(HttpStatusCode.TooManyRequests, throttled.StatusCode);
            Assert.Equal("rate_limit_error", (await TestAgent.JsonAsync(throttled)).GetProperty("error").GetProperty("type").GetString());
        }

        using (var balance = new HttpRequestMessage(HttpMethod.Get, "v1/meteragent/balance"))
        {
            balance.Headers.Authorization = new AuthenticationHeaderValue("Bearer", _agent.ClientKey);
            using var throttled = await attacker.SendAsync(balance);
            Assert.Equal(HttpStatusCode.TooManyRequests, throttled.StatusCode);
        }

        // Another address: its valid key works, and its first bad key is an ordinary 401.
        using var neighbour = LoopbackSource.Client(_agent.ProxyUrl, "127.0.0.3");
        using (var request = _agent.OpenAIRequest("v1/chat/completions", Chat))
        using (var served = await neighbour.SendAsync(request))
        {
            Assert.Equal(HttpStatusCode.OK, served.StatusCode);
        }

        using (var request = _agent.OpenAIRequest("v1/chat/completions", Chat, key: "sk-neighbour-typo"))
        using (var refused = await neighbour.SendAsync(request))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        }
    }

    [Fact]
    public async Task Successes_never_use_the_budget()
    {
        using var client = LoopbackSource.Client(_agent.ProxyUrl, "127.0.0.4");
        for (var i = 0; i < Limit * 3; i++)
        {
            using var request = _agent.OpenAIRequest("v1/chat/completions", Chat);
            using var served = await client.SendAsync(request);
            Assert.Equal(HttpStatusCode.OK, served.StatusCode);
        }

        for (var i = 0; i < Limit; i++)
        {
            using var request = _agent.OpenAIRequest("v1/chat/completions", Chat, key: "sk-wrong");
            using var refused = await client.SendAsync(request);
            Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        }
    }

    [Fact]
    public async Task Bad_admin_tokens_past_the_limit_get_429_problem_json_and_the_admin_elsewhere_is_served()
    {
        using var attacker = LoopbackSource.Client(_agent.ManagementUrl, "127.0.0.5", bearer: "not-the-admin-token-at-all");
        for (var i = 0; i < Limit; i++)
        {
            using var refused = await attacker.GetAsync("admin/accounts");
            Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        }

        using (var throttled = await attacker.GetAsync("admin/accounts"))
        {
            Assert.Equal(HttpStatusCode.TooManyRequests, throttled.StatusCode);
            Assert.Equal("application/problem+json", throttled.Content.Headers.ContentType?.MediaType);
            Assert.NotNull(throttled.Headers.RetryAfter?.Delta);
            var problem = await throttled.Content.ReadFromJsonAsync<JsonElement>();
            Assert.Equal(429, problem.GetProperty("status").GetInt32());
        }

        // The same address with the right token is refused too (no guessing past the limit); another address is served.
        attacker.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", TestAgent.AdminToken);
        using (var throttled = await attacker.GetAsync("admin/accounts"))
        {
            Assert.Equal(HttpStatusCode.TooManyRequests, throttled.StatusCode);
        }

        using var admin = LoopbackSource.Client(_agent.ManagementUrl, "127.0.0.6", bearer: TestAgent.AdminToken);
        using var served = await admin.GetAsync("admin/accounts");
        Assert.Equal(HttpStatusCode.OK, served.StatusCode);
    }

    [Fact]
    public async Task Bad_read_tokens_are_throttled_on_the_log()
    {
        using var attacker = LoopbackSource.Client(_agent.ManagementUrl, "127.0.0.7", bearer: "not-the-read-token");
        for (var i = 0; i < Limit; i++)
        {
            using var refused = await attacker.GetAsync("log/checkpoint");
            Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        }

        using (var throttled = await attacker.GetAsync("log/statements"))
        {
            Assert.Equal(HttpStatusCode.TooManyRequests, throttled.StatusCode);
            Assert.Equal("application/problem+json", throttled.Content.Headers.ContentType?.MediaType);
        }

        using var clearing = LoopbackSource.Client(_agent.ManagementUrl, "127.0.0.8", bearer: ReadToken);
        using var served = await clearing.GetAsync("log/checkpoint");
        Assert.Equal(HttpStatusCode.OK, served.StatusCode);
    }

    [Theory]
    [InlineData("-1")]
    [InlineData("100001")]
    public async Task An_out_of_range_limit_stops_start_up_naming_the_key(string limit)
    {
        var failure = await Assert.ThrowsAnyAsync<Exception>(() => TestAgent.StartAsync(settings: new Dictionary<string, string?>
        {
            ["MeterAgent:AuthFailureLimit"] = limit,
        }));
        Assert.Contains("MeterAgent:AuthFailureLimit", failure.ToString(), StringComparison.Ordinal);
    }
}
