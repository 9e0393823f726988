using MeterAgent.Emulator;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;

namespace MeterAgent.IntegrationTests.Infrastructure;

/// <summary>The emulated upstream on a real Kestrel server on loopback.</summary>
internal sealed class RunningEmulator : IAsyncDisposable
{
    private readonly WebApplication _app;

    private RunningEmulator(WebApplication app, string url)
    {
        _app = app;
        Url = url;
    }

    public string Url { get; }

    public EmulatorStats Stats => _app.Services.GetRequiredService<EmulatorStats>();

    public static async Task<RunningEmulator> StartAsync(EmulatorOptions options)
    {
        var app = EmulatorApp.Build(options, "http://127.0.0.1:0");
        await app.StartAsync();
        var url = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new RunningEmulator(app, url.TrimEnd('/') + "/");
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
