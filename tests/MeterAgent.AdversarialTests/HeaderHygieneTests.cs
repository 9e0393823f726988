using System.Net;
using Microsoft.AspNetCore.Http;

namespace MeterAgent.AdversarialTests;

/// <summary>What crosses the proxy: only the allow-listed headers, in each direction.</summary>
public sealed class HeaderHygieneTests : IAsyncLifetime
{
    private HostileUpstream _upstream = null!;
    private TestAgent _agent = null!;

    public async Task InitializeAsync()
    {
        _upstream = await HostileUpstream.StartAsync();
        _agent = await TestAgent.StartAsync(settings: new Dictionary<string, string?>
        {
            ["ReverseProxy:Clusters:openai:Destinations:primary:Address"] = _upstream.Url,
            ["ReverseProxy:Clusters:anthropic:Destinations:primary:Address"] = _upstream.Url,
            ["MeterAgent:Headers:Request:0"] = "x-tenant-hint",
            ["MeterAgent:Headers:Response:0"] = "x-served-by",
        });
    }

    public async Task DisposeAsync()
    {
        await _agent.DisposeAsync();
        await _upstream.DisposeAsync();
    }

    [Fact]
    public async Task Client_credentials_and_tenancy_headers_never_reach_the_upstream()
    {
        _upstream.Respond = ChatCompletion;
        using var request = _agent.OpenAIRequest("v1/chat/completions", """{"model":"emu-chat","messages":[{"role":"user","content":"hi"}]}""");
        request.Headers.Add("OpenAI-Organization", "org-victim");
        request.Headers.Add("OpenAI-Project", "proj-victim");
        request.Headers.Add("api-key", "azure-style-key");
        request.Headers.Add("Cookie", "session=stolen");
        request.Headers.Add("X-Forwarded-For", "10.9.8.7");
        request.Headers.Add("OpenAI-Beta", "assistants=v2");
        request.Headers.Add("x-stainless-lang", "dotnet");
        request.Headers.Add("x-tenant-hint", "blue");

        using var response = await _agent.Http.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var seen = Assert.Single(_upstream.ReceivedHeaders);
        foreach (var forbidden in new[] { "OpenAI-Organization", "OpenAI-Project", "api-key", "Cookie" })
        {
            Assert.False(seen.ContainsKey(forbidden), $"{forbidden} reached the upstream");
        }

        // The provider's key replaced the client's; the SDK's own headers and the operator's extra one pass.
        Assert.Equal("Bearer " + TestAgent.UpstreamKey, seen.Authorization.ToString());
        Assert.Equal("assistants=v2", seen["OpenAI-Beta"].ToString());
        Assert.Equal("dotnet", seen["x-stainless-lang"].ToString());
        Assert.Equal("blue", seen["x-tenant-hint"].ToString());

        // YARP sets X-Forwarded-For from the connection: the client's own value is not passed on.
        Assert.DoesNotContain("10.9.8.7", seen["X-Forwarded-For"].ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Upstream_cookies_organization_and_a_forged_usage_id_never_reach_the_client()
    {
        _upstream.Respond = async context =>
        {
            context.Response.Headers.SetCookie = "upstream-session=abc";
            context.Response.Headers["openai-organization"] = "org-provider-internal";
            context.Response.Headers["x-meteragent-usage-id"] = "forged";
            context.Response.Headers["x-request-id"] = "req-123";
            context.Response.Headers["x-ratelimit-remaining-tokens"] = "999";
            context.Response.Headers["x-served-by"] = "gpu-7";
            await ChatCompletion(context);
        };
        using var request = _agent.OpenAIRequest("v1/chat/completions", """{"model":"emu-chat","messages":[{"role":"user","content":"hi"}]}""");

        using var response = await _agent.Http.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.False(response.Headers.Contains("Set-Cookie"));
        Assert.False(response.Headers.Contains("openai-organization"));
        var usageId = Assert.Single(response.Headers.GetValues("x-meteragent-usage-id"));
        Assert.NotEqual("forged", usageId);
        Assert.Equal(usageId, (await _agent.RecordAsync(usageId)).Id);
        Assert.Equal("req-123", Assert.Single(response.Headers.GetValues("x-request-id")));
        Assert.Equal("999", Assert.Single(response.Headers.GetValues("x-ratelimit-remaining-tokens")));
        Assert.Equal("gpu-7", Assert.Single(response.Headers.GetValues("x-served-by")));
    }

    private static Task ChatCompletion(HttpContext context)
    {
        context.Response.ContentType = "application/json";
        return context.Response.WriteAsync("""
            {"id":"chatcmpl-1","object":"chat.completion","created":1,"model":"emu-chat","choices":[{"index":0,"message":{"role":"assistant","content":"Hello there."},"finish_reason":"stop"}],"usage":{"prompt_tokens":8,"completion_tokens":3,"total_tokens":11}}
            """);
    }
}
