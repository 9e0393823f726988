using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace MeterAgent.Testing;

/// <summary>
/// An upstream that answers whatever a test scripts, on a real Kestrel server on loopback: cut streams, lying usage,
/// huge bodies, hostile headers. It keeps the headers of every request it received.
/// </summary>
public sealed class HostileUpstream : IAsyncDisposable
{
    private readonly WebApplication _app;

    private HostileUpstream(WebApplication app, string url)
    {
        _app = app;
        Url = url;
    }

    public string Url { get; }

    /// <summary>What the next requests get; a test sets it before sending.</summary>
    public Func<HttpContext, Task> Respond { get; set; } = context =>
    {
        context.Response.StatusCode = StatusCodes.Status500InternalServerError;
        return Task.CompletedTask;
    };

    public ConcurrentQueue<IHeaderDictionary> ReceivedHeaders { get; } = new();

    public static async Task<HostileUpstream> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Limits.MaxRequestBodySize = null);
        var app = builder.Build();
        HostileUpstream? upstream = null;
        app.Run(async context =>
        {
            var copy = new HeaderDictionary();
            foreach (var (name, value) in context.Request.Headers)
            {
                copy[name] = value;
            }

            upstream!.ReceivedHeaders.Enqueue(copy);
            await context.Request.Body.CopyToAsync(Stream.Null);
            await upstream.Respond(context);
        });
        await app.StartAsync();
        var url = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        upstream = new HostileUpstream(app, url.TrimEnd('/') + "/");
        return upstream;
    }

    /// <summary>Writes SSE events one by one, flushed, as a real upstream streams them.</summary>
    public static async Task WriteEventsAsync(HttpContext context, IEnumerable<string> events)
    {
        context.Response.ContentType = "text/event-stream";
        foreach (var data in events)
        {
            await context.Response.WriteAsync(data, context.RequestAborted);
            await context.Response.Body.FlushAsync(context.RequestAborted);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
