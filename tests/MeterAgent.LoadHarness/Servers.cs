using System.Globalization;
using System.Net;
using MeterAgent.Emulator;
using MeterAgent.Hosting;
using MeterAgent.Ledger.Accounts;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Yarp.ReverseProxy.Configuration;

namespace MeterAgent.LoadHarness;

/// <summary>
/// The three servers, in this process on loopback: the emulator, a bare YARP in front of it (same route and cluster
/// settings as the agent, nothing else), and MeterAgent itself with a temporary SQLite store, one account and one key.
/// </summary>
internal sealed class Servers : IAsyncDisposable
{
    private const string UpstreamKey = "upstream-key-for-load-harness";
    private const string ChatPath = "v1/chat/completions";

    private readonly List<WebApplication> _apps = [];
    private readonly string _storeDirectory;

    private Servers(string storeDirectory) => _storeDirectory = storeDirectory;

    public IReadOnlyList<Target> Targets { get; private set; } = [];

    public static async Task<Servers> StartAsync(CancellationToken cancellationToken)
    {
        var servers = new Servers(Directory.CreateTempSubdirectory("meteragent-load-").FullName);
        try
        {
            await servers.StartAllAsync(cancellationToken);
            return servers;
        }
        catch
        {
            await servers.DisposeAsync();
            throw;
        }
    }

    private async Task StartAllAsync(CancellationToken cancellationToken)
    {
        var emulator = EmulatorApp.Build(new EmulatorOptions { RequiredApiKey = UpstreamKey }, "http://127.0.0.1:0");
        await StartAsync(emulator, cancellationToken);
        var emulatorUrl = emulator.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First().TrimEnd('/') + "/";

        var yarpPort = FreePort.Next();
        var yarp = BuildBareYarp(yarpPort, emulatorUrl);
        await StartAsync(yarp, cancellationToken);

        var proxyPort = FreePort.Next();
        var agent = MeterAgentHost.Build([], builder => builder.AddInMemoryCollection(AgentSettings(proxyPort, emulatorUrl)));
        await StartAsync(agent, cancellationToken);
        var accounts = agent.Services.GetRequiredService<IAccountStore>();
        var account = await accounts.CreateAccountAsync("load-harness", cancellationToken);
        var key = await accounts.IssueKeyAsync(account.Id, cancellationToken) ?? throw new InvalidOperationException("The account vanished.");

        Targets =
        [
            new Target(TargetKind.Direct, new Uri(new Uri(emulatorUrl), ChatPath), UpstreamKey),
            new Target(TargetKind.BareYarp, new Uri($"http://127.0.0.1:{yarpPort}/{ChatPath}"), UpstreamKey),
            new Target(TargetKind.MeterAgent, new Uri($"http://127.0.0.1:{proxyPort}/{ChatPath}"), key.Secret),
        ];
    }

    private Dictionary<string, string?> AgentSettings(int proxyPort, string emulatorUrl) => new()
    {
        ["MeterAgent:ProxyPort"] = proxyPort.ToString(CultureInfo.InvariantCulture),
        ["MeterAgent:ManagementPort"] = FreePort.Next().ToString(CultureInfo.InvariantCulture),
        ["MeterAgent:Upstreams:openai:ApiKey"] = UpstreamKey,
        ["MeterAgent:Upstreams:anthropic:ApiKey"] = UpstreamKey,
        ["MeterAgent:Upstreams:anthropic:Scheme"] = "XApiKey",
        ["ReverseProxy:Routes:openai-chat:ClusterId"] = "openai",
        ["ReverseProxy:Routes:openai-chat:Match:Path"] = "/v1/chat/completions",
        ["ReverseProxy:Clusters:openai:HttpRequest:ActivityTimeout"] = "00:02:00",
        ["ReverseProxy:Clusters:openai:Destinations:primary:Address"] = emulatorUrl,
        ["ReverseProxy:Clusters:anthropic:Destinations:primary:Address"] = emulatorUrl,
        ["Store:Path"] = Path.Combine(_storeDirectory, "meteragent.db"),
        // The shipped default: group commit without an fsync per transaction.
        ["Store:Synchronous"] = "Normal",
        ["Logging:LogLevel:Default"] = "Warning",
    };

    /// <summary>YARP as an operator would run it without metering: the agent's host builder defaults, its route and cluster.</summary>
    private static WebApplication BuildBareYarp(int port, string emulatorUrl)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = [], ContentRootPath = AppContext.BaseDirectory });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["Logging:LogLevel:Default"] = "Warning" });
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, port));
        RouteConfig[] routes = [new() { RouteId = "openai-chat", ClusterId = "openai", Match = new RouteMatch { Path = "/v1/chat/completions" } }];
        ClusterConfig[] clusters =
        [
            new()
            {
                ClusterId = "openai",
                HttpRequest = new Yarp.ReverseProxy.Forwarder.ForwarderRequestConfig { ActivityTimeout = TimeSpan.FromMinutes(2) },
                Destinations = new Dictionary<string, DestinationConfig> { ["primary"] = new() { Address = emulatorUrl } },
            },
        ];
        builder.Services.AddReverseProxy().LoadFromMemory(routes, clusters);
        var app = builder.Build();
        app.MapReverseProxy();
        return app;
    }

    private async Task StartAsync(WebApplication app, CancellationToken cancellationToken)
    {
        _apps.Add(app);
        await app.StartAsync(cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        // Stop in reverse: the proxies before the upstream they forward to.
        for (var i = _apps.Count - 1; i >= 0; i--)
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            await _apps[i].StopAsync(timeout.Token);
            await _apps[i].DisposeAsync();
        }

        try
        {
            Directory.Delete(_storeDirectory, recursive: true);
        }
        catch (IOException)
        {
            // A leftover temp folder is harmless.
        }
    }
}
