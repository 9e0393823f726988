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
                && text.Contains("meteragent.store.commit.duration", StringComparison.Ordinal),
            "the agent's instruments exported over OTLP");
        Assert.All(receiver.Paths, path => Assert.Contains(path, (string[])["/v1/metrics", "/v1/traces"]));
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

        public string Received(string path) =>
            string.Concat(_bodies.Where(sent => sent.Path == path).Select(sent => Encoding.UTF8.GetString(sent.Body)));

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
