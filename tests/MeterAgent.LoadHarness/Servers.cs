using System.Globalization;
using System.Net;
using System.Text;
using MeterAgent.Contracts.Deliveries;
using MeterAgent.Emulator;
using MeterAgent.Hosting;
using MeterAgent.Ledger.Accounts;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Yarp.ReverseProxy.Configuration;

namespace MeterAgent.LoadHarness;

/// <summary>
/// The servers, in this process on loopback: the emulator, a bare YARP in front of it (same route and cluster
/// settings as the agent, nothing else), MeterAgent itself with a temporary SQLite store, one account and one key,
/// and a second MeterAgent, its own store, with credits on. Only the chosen targets are started (the emulator always),
/// so an idle host's background services do not cost the measured ones anything.
/// </summary>
internal sealed class Servers : IAsyncDisposable
{
    private const string UpstreamKey = "upstream-key-for-load-harness";
    private const string ChatPath = "v1/chat/completions";
    private const string ContractId = "load-harness-std";

    // 10^9 units: at the small scenario's ~70 units a request, more than any bounded run can spend, so no request is
    // ever refused or served as overage; a reservation always draws on this one lot. Within the Redis backend's bound
    // (2^53 - 1 micro-units, about 9 x 10^9 units), so both stores get the same delivery.
    private const decimal DeliveredUnits = 1_000_000_000m;

    private readonly List<WebApplication> _apps = [];
    private readonly string _storeDirectory;

    private Servers(string storeDirectory) => _storeDirectory = storeDirectory;

    public IReadOnlyList<Target> Targets { get; private set; } = [];

    /// <summary>The redis-server behind the agent-redis target (AOF on, as distributed mode is run), when it is chosen.</summary>
    public RunningRedis? Redis { get; private set; }

    public static async Task<Servers> StartAsync(IReadOnlyCollection<TargetKind> targets, CancellationToken cancellationToken)
    {
        var servers = new Servers(Directory.CreateTempSubdirectory("meteragent-load-").FullName);
        try
        {
            await servers.StartAllAsync(targets, cancellationToken);
            return servers;
        }
        catch
        {
            await servers.DisposeAsync();
            throw;
        }
    }

    private async Task StartAllAsync(IReadOnlyCollection<TargetKind> chosen, CancellationToken cancellationToken)
    {
        var emulator = EmulatorApp.Build(new EmulatorOptions { RequiredApiKey = UpstreamKey }, "http://127.0.0.1:0");
        await StartAsync(emulator, cancellationToken);
        var emulatorUrl = emulator.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First().TrimEnd('/') + "/";

        var targets = new List<Target>();
        if (chosen.Contains(TargetKind.Direct))
        {
            targets.Add(new Target(TargetKind.Direct, new Uri(new Uri(emulatorUrl), ChatPath), UpstreamKey));
        }

        if (chosen.Contains(TargetKind.BareYarp))
        {
            var yarpPort = FreePort.Next();
            await StartAsync(BuildBareYarp(yarpPort, emulatorUrl), cancellationToken);
            targets.Add(new Target(TargetKind.BareYarp, new Uri($"http://127.0.0.1:{yarpPort}/{ChatPath}"), UpstreamKey));
        }

        if (chosen.Contains(TargetKind.MeterAgent))
        {
            targets.Add(await StartAgentAsync(TargetKind.MeterAgent, emulatorUrl, cancellationToken));
        }

        if (chosen.Contains(TargetKind.MeterAgentCredits))
        {
            targets.Add(await StartAgentAsync(TargetKind.MeterAgentCredits, emulatorUrl, cancellationToken));
        }

        if (chosen.Contains(TargetKind.MeterAgentRedisCredits))
        {
            RunningRedis.Require();
            Redis = await RunningRedis.StartAsync();
            targets.Add(await StartAgentAsync(TargetKind.MeterAgentRedisCredits, emulatorUrl, cancellationToken));
        }

        Targets = targets;
    }

    /// <summary>
    /// A MeterAgent with its own store; with credits, a contract covering the harness model, a trusted signing key,
    /// and one delivery posted through the clearing API as a clearing house would. The account keeps the default
    /// overage policy (reject), so a request that found no credit would fail and show up as an error.
    /// </summary>
    private async Task<Target> StartAgentAsync(TargetKind kind, string emulatorUrl, CancellationToken cancellationToken)
    {
        var credits = kind is TargetKind.MeterAgentCredits or TargetKind.MeterAgentRedisCredits;
        var name = TargetNames.Short(kind);
        var proxyPort = FreePort.Next();
        var managementPort = FreePort.Next();
        var settings = AgentSettings(name, proxyPort, managementPort, emulatorUrl);
        if (kind == TargetKind.MeterAgentRedisCredits)
        {
            // Distributed mode as docs/distributed.md runs it: one replica here, accounts, credits, counters, rate limits
            // and the log in Redis, the records in its local store.
            settings["Store:Kind"] = "redis";
            settings["Redis:ConnectionString"] = Redis!.ConnectionString;
            settings["Redis:ReplicaId"] = "load-harness";
        }

        using var signer = credits ? DeliverySigner.CreateNew("load-harness-clearing").Signer : null;
        if (signer is not null)
        {
            foreach (var (key, value) in WriteClearingHouse(name, signer))
            {
                settings[key] = value;
            }
        }

        var agent = MeterAgentHost.Build([], builder => builder.AddInMemoryCollection(settings));
        await StartAsync(agent, cancellationToken);
        var accounts = agent.Services.GetRequiredService<IAccountStore>();
        var account = await accounts.CreateAccountAsync("load-harness", cancellationToken);
        var issued = await accounts.IssueKeyAsync(account.Id, cancellationToken) ?? throw new InvalidOperationException("The account vanished.");
        if (signer is not null)
        {
            await DeliverAsync(managementPort, signer, account.Id, cancellationToken);
        }

        return new Target(kind, new Uri($"http://127.0.0.1:{proxyPort}/{ChatPath}"), issued.Secret);
    }

    /// <summary>The contract spec folder and the trusted keys file, as an operator would deploy them.</summary>
    private Dictionary<string, string> WriteClearingHouse(string name, DeliverySigner signer)
    {
        var directory = Path.Combine(_storeDirectory, name + "-clearing");
        var contracts = Path.Combine(directory, "contracts");
        Directory.CreateDirectory(contracts);
        var now = DateTimeOffset.UtcNow;
        File.WriteAllText(Path.Combine(contracts, ContractId + ".v1.json"), $$"""
            {
              "id": "{{ContractId}}",
              "version": 1,
              "eligible_models": ["gpt-4o-mini"],
              "unit_basis": "reference",
              "weights": { "input": 1, "cached_input": 0.1, "cache_write": 1.25, "output": 2, "reasoning": 2 },
              "delivery_window": { "start": "{{now.AddDays(-30):O}}", "end": "{{now.AddDays(60):O}}" },
              "settlement_interval": "00:15:00"
            }
            """);
        var keys = Path.Combine(directory, "clearing-jwks.json");
        File.WriteAllText(keys, signer.PublicJwksJson);
        return new Dictionary<string, string>
        {
            ["Credits:Enabled"] = "true",
            ["Credits:ContractsPath"] = contracts,
            ["Credits:TrustedKeysPath"] = keys,
        };
    }

    /// <summary>Posts one signed delivery to the management port's clearing API; anything but 201 stops the run.</summary>
    private static async Task DeliverAsync(int managementPort, DeliverySigner signer, string accountId, CancellationToken cancellationToken)
    {
        var now = DateTimeOffset.UtcNow;
        var jws = signer.Sign(new DeliveryNoticeClaims(
            "dlv-load-harness-" + Guid.NewGuid().ToString("N"), ContractId, 1, accountId, DeliveredUnits, now.AddDays(-1), now.AddDays(30), now));
        using var management = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{managementPort}/"), Timeout = TimeSpan.FromSeconds(30) };
        using var response = await management.PostAsync("clearing/deliveries", new StringContent(jws, Encoding.ASCII, "application/jose"), cancellationToken);
        if (response.StatusCode != HttpStatusCode.Created)
        {
            var body = await response.Content.ReadAsStringAsync(cancellationToken);
            throw new InvalidOperationException($"The delivery was not applied: HTTP {(int)response.StatusCode} {body}");
        }
    }

    private Dictionary<string, string?> AgentSettings(string name, int proxyPort, int managementPort, string emulatorUrl) => new()
    {
        ["MeterAgent:ProxyPort"] = proxyPort.ToString(CultureInfo.InvariantCulture),
        ["MeterAgent:ManagementPort"] = managementPort.ToString(CultureInfo.InvariantCulture),
        ["MeterAgent:Upstreams:openai:ApiKey"] = UpstreamKey,
        ["MeterAgent:Upstreams:anthropic:ApiKey"] = UpstreamKey,
        ["MeterAgent:Upstreams:anthropic:Scheme"] = "XApiKey",
        ["MeterAgent:Headers:Request:0"] = "x-emulator-*",
        ["ReverseProxy:Routes:openai-chat:ClusterId"] = "openai",
        ["ReverseProxy:Routes:openai-chat:Match:Path"] = "/v1/chat/completions",
        ["ReverseProxy:Clusters:openai:HttpRequest:ActivityTimeout"] = "00:02:00",
        ["ReverseProxy:Clusters:openai:Destinations:primary:Address"] = emulatorUrl,
        ["ReverseProxy:Clusters:anthropic:Destinations:primary:Address"] = emulatorUrl,
        ["Store:Path"] = Path.Combine(_storeDirectory, name, "meteragent.db"),
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

        if (Redis is not null)
        {
            await Redis.DisposeAsync();
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
