using System.Collections.Concurrent;
using System.Net.Http.Headers;
using System.Text;
using MeterAgent.Emulator;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace MeterAgent.Testing;

/// <summary>What the emulator received, kept when a test asks for it (<see cref="RunningEmulator.StartAsync"/>).</summary>
/// <param name="Path">the request path</param>
/// <param name="Headers">every request header, as received</param>
/// <param name="Body">the body as UTF-8 text</param>
public sealed record ReceivedRequest(string Path, IReadOnlyDictionary<string, string> Headers, string Body);

/// <summary>
/// The one emulator fixture: the emulated upstream on a real Kestrel server on a loopback port, for the emulator's
/// own tests, the agent fixtures and the load harness.
/// </summary>
public sealed class RunningEmulator : IAsyncDisposable
{
    private readonly WebApplication _app;

    private RunningEmulator(WebApplication app, Uri baseAddress)
    {
        _app = app;
        BaseAddress = baseAddress;
        Http = new HttpClient { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(30) };
    }

    public Uri BaseAddress { get; }

    /// <summary>The base address as a string ending in '/', as agent settings take it.</summary>
    public string Url => BaseAddress.ToString();

    /// <summary>The OpenAI SDK wants the "/v1" base; the Anthropic SDK adds "/v1" itself.</summary>
    public Uri OpenAIEndpoint => new(BaseAddress, "v1");

    /// <summary>Straight to the emulator, no credentials.</summary>
    public HttpClient Http { get; }

    public EmulatorStats Stats => _app.Services.GetRequiredService<EmulatorStats>();

    /// <summary>Every request received, in arrival order, when started with recordRequests; empty otherwise.</summary>
    public ConcurrentQueue<ReceivedRequest> Received { get; } = new();

    /// <param name="options">the emulator's options; its defaults when null</param>
    /// <param name="recordRequests">keep every request's path, headers and body in <see cref="Received"/></param>
    public static async Task<RunningEmulator> StartAsync(EmulatorOptions? options = null, bool recordRequests = false)
    {
        var app = EmulatorApp.Build(options ?? new EmulatorOptions(), "http://127.0.0.1:0");
        RunningEmulator? emulator = null;
        if (recordRequests)
        {
            // Minimal hosting runs mapped endpoints at the end of the pipeline, so this sees every request first.
            app.Use(async (context, next) =>
            {
                context.Request.EnableBuffering();
                using var reader = new StreamReader(context.Request.Body, Encoding.UTF8, leaveOpen: true);
                var body = await reader.ReadToEndAsync(context.RequestAborted);
                context.Request.Body.Position = 0;
                var headers = context.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase);
                emulator!.Received.Enqueue(new ReceivedRequest(context.Request.Path, headers, body));
                await next(context);
            });
        }

        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        emulator = new RunningEmulator(app, new Uri(address.TrimEnd('/') + "/"));
        return emulator;
    }

    public Task<HttpResponseMessage> PostAsync(string path, string json, params (string Name, string Value)[] headers) =>
        PostAsync(path, json, HttpCompletionOption.ResponseContentRead, headers);

    public Task<HttpResponseMessage> PostAsync(string path, string json, HttpCompletionOption completion, params (string Name, string Value)[] headers)
    {
        ArgumentNullException.ThrowIfNull(path);
        var request = new HttpRequestMessage(HttpMethod.Post, path.TrimStart('/'))
        {
            Content = new StringContent(json, Encoding.UTF8, new MediaTypeHeaderValue("application/json")),
        };
        foreach (var (name, value) in headers)
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        return Http.SendAsync(request, completion);
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
