using System.Net.Http.Headers;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace MeterAgent.Emulator.Tests;

/// <summary>A real emulator on a loopback port, started per test (or per class) and torn down after.</summary>
internal sealed class EmulatorServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private EmulatorServer(WebApplication app, Uri baseAddress)
    {
        _app = app;
        BaseAddress = baseAddress;
        Http = new HttpClient { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(30) };
    }

    public Uri BaseAddress { get; }

    /// <summary>The OpenAI SDK wants the "/v1" base; the Anthropic SDK adds "/v1" itself.</summary>
    public Uri OpenAIEndpoint => new(BaseAddress, "v1");

    public HttpClient Http { get; }

    public EmulatorStats Stats => _app.Services.GetRequiredService<EmulatorStats>();

    public static async Task<EmulatorServer> StartAsync(EmulatorOptions? options = null)
    {
        var app = EmulatorApp.Build(options ?? new EmulatorOptions(), "http://127.0.0.1:0");
        await app.StartAsync();
        var address = app.Urls.Single();
        return new EmulatorServer(app, new Uri(address.TrimEnd('/') + "/"));
    }

    public Task<HttpResponseMessage> PostAsync(string path, string json, params (string Name, string Value)[] headers) =>
        PostAsync(path, json, HttpCompletionOption.ResponseContentRead, headers);

    public Task<HttpResponseMessage> PostAsync(string path, string json, HttpCompletionOption completion, params (string Name, string Value)[] headers)
    {
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
