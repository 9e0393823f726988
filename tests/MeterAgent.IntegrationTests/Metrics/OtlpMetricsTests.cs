using System.Collections.Concurrent;
using System.Net;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace MeterAgent.IntegrationTests.Metrics;

/// <summary>
/// With <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> set, the same instruments go out over OTLP (http/protobuf) under their
/// OpenTelemetry names: a real agent exports to a loopback receiver that keeps what it is sent.
/// </summary>
public sealed class OtlpMetricsTests
{
    [Fact]
    public async Task The_agents_instruments_reach_an_OTLP_endpoint_under_their_semantic_convention_names()
    {
        await using var receiver = await OtlpReceiver.StartAsync();
        await using var agent = await TestAgent.StartAsync(settings: new Dictionary<string, string?>
        {
            ["OTEL_EXPORTER_OTLP_ENDPOINT"] = receiver.Url,
            ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
            ["OTEL_METRIC_EXPORT_INTERVAL"] = "300",
        });
        using (var response = await agent.Http.SendAsync(agent.OpenAIRequest("v1/chat/completions",
            """{"model":"emu-chat","max_tokens":4,"messages":[{"role":"user","content":"hi"}]}""")))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            await agent.RecordForAsync(response);
        }

        // Protobuf keeps names as UTF-8 bytes: enough to see which instruments were exported. The same variable turns
        // tracing on (README, `Tracing:Enabled`), so the request's spans may reach /v1/traces too, whenever the span batch is due.
        await Eventually.ThatAsync(
            () => receiver.Received("/v1/metrics"),
            text => text.Contains("meteragent.requests", StringComparison.Ordinal)
                && text.Contains("gen_ai.server.request.duration", StringComparison.Ordinal)
                && text.Contains("gen_ai.client.token.usage", StringComparison.Ordinal)
                && text.Contains("meteragent.store.commit.duration", StringComparison.Ordinal)
                && text.Contains("dotnet.process.cpu.count", StringComparison.Ordinal),
            "the agent's and the runtime's instruments exported over OTLP");
        Assert.All(receiver.Paths, path => Assert.Contains(path, (string[])["/v1/metrics", "/v1/traces"]));
    }

    [Fact]
    public async Task Another_agent_in_the_process_stopping_does_not_take_this_agents_instruments_with_it()
    {
        // Tests, or a host embedding the agent, run several agents in one process: each has a meter of the same name.
        // The exporter must follow only its own agent's: if it also took the other's and shared one stream between them,
        // the other's stop would retire that stream, and this agent's requests would be counted where nothing exports.
        await using var receiver = await OtlpReceiver.StartAsync();
        await using var agent = await TestAgent.StartAsync(settings: new Dictionary<string, string?>
        {
            ["OTEL_EXPORTER_OTLP_ENDPOINT"] = receiver.Url,
            ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
            ["OTEL_METRIC_EXPORT_INTERVAL"] = "300",
        });
        await using (var other = await TestAgent.StartAsync())
        {
            using var response = await other.Http.SendAsync(other.OpenAIRequest("v1/chat/completions",
                """{"model":"emu-chat","max_tokens":4,"messages":[{"role":"user","content":"hi"}]}"""));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            await other.RecordForAsync(response);
        }

        // An exporter retires a stopped instrument's stream at its next collection: let two pass.
        var exports = receiver.Count("/v1/metrics");
        await Eventually.ThatAsync(() => Task.FromResult(receiver.Count("/v1/metrics")), count => count >= exports + 2,
            "two metric exports after the other agent stopped");

        using (var response = await agent.Http.SendAsync(agent.OpenAIRequest("v1/chat/completions",
            """{"model":"emu-chat","max_tokens":4,"messages":[{"role":"user","content":"hi"}]}""")))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            await agent.RecordForAsync(response);
        }

        // Only what is exported from now on: before, the other agent's own request may have been in it.
        var since = receiver.Count("/v1/metrics");
        await Eventually.ThatAsync(
            () => receiver.Received("/v1/metrics", skip: since),
            text => text.Contains("meteragent.requests", StringComparison.Ordinal)
                && text.Contains("gen_ai.client.token.usage", StringComparison.Ordinal),
            "this agent's request counted and exported after the other agent stopped");
    }

    [Fact]
    public async Task Without_an_endpoint_or_Metrics_Otlp_nothing_is_exported()
    {
        await using var agent = await TestAgent.StartAsync();
        Assert.Null(agent.Services.GetService<OpenTelemetry.Metrics.MeterProvider>());
    }

    private sealed class OtlpReceiver : IAsyncDisposable
    {
        private readonly WebApplication _app;
        private readonly ConcurrentQueue<(string Path, byte[] Body)> _bodies = new();

        private OtlpReceiver(WebApplication app) => _app = app;

        public string Url { get; private set; } = string.Empty;

        public ConcurrentQueue<string> Paths { get; } = new();

        public int Count(string path) => _bodies.Count(sent => sent.Path == path);

        public string Received(string path, int skip = 0) =>
            string.Concat(_bodies.Where(sent => sent.Path == path).Skip(skip).Select(sent => Encoding.UTF8.GetString(sent.Body)));

        public static async Task<OtlpReceiver> StartAsync()
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.WebHost.UseUrls("http://127.0.0.1:0");
            var app = builder.Build();
            var receiver = new OtlpReceiver(app);
            app.Run(async context =>
            {
                receiver.Paths.Enqueue(context.Request.Path);
                using var body = new MemoryStream();
                await context.Request.Body.CopyToAsync(body);
                receiver._bodies.Enqueue((context.Request.Path, body.ToArray()));
                context.Response.StatusCode = StatusCodes.Status200OK;
            });
            await app.StartAsync();
            receiver.Url = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
            return receiver;
        }

        public async ValueTask DisposeAsync()
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
    }
}
