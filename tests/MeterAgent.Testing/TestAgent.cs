using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using MeterAgent.Emulator;
using MeterAgent.Hosting;
using MeterAgent.Ledger.Accounts;
using MeterAgent.Ledger.Usage;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace MeterAgent.Testing;

/// <summary>
/// MeterAgent on real loopback listeners in front of a real emulator, on its own SQLite file, with one account and key.
/// </summary>
public sealed class TestAgent : IAsyncDisposable
{
    public const string UpstreamKey = "upstream-secret-for-tests";
    public const string AdminToken = "admin-token-for-integration-tests";

    private readonly WebApplication _app;
    private readonly string _directory;

    private TestAgent(WebApplication app, RunningEmulator emulator, string directory, int proxyPort, int managementPort, string clientKey, string accountId)
    {
        _app = app;
        Emulator = emulator;
        _directory = directory;
        ProxyUrl = $"http://127.0.0.1:{proxyPort}/";
        ManagementUrl = $"http://127.0.0.1:{managementPort}/";
        ClientKey = clientKey;
        AccountId = accountId;
        Http = new HttpClient { BaseAddress = new Uri(ProxyUrl), Timeout = TimeSpan.FromSeconds(30) };
        Admin = new HttpClient { BaseAddress = new Uri(ManagementUrl), Timeout = TimeSpan.FromSeconds(30) };
        Admin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", AdminToken);
    }

    public RunningEmulator Emulator { get; }

    /// <summary>The agent's SQLite file.</summary>
    public string DatabasePath => Path.Combine(_directory, "meteragent.db");

    public string ProxyUrl { get; }

    public string ManagementUrl { get; }

    public string ClientKey { get; }

    public string AccountId { get; }

    /// <summary>Client traffic, without credentials (tests add them per request).</summary>
    public HttpClient Http { get; }

    /// <summary>The management port with the admin token.</summary>
    public HttpClient Admin { get; }

    public IUsageStore Usage => _app.Services.GetRequiredService<IUsageStore>();

    public IAccountStore Accounts => _app.Services.GetRequiredService<IAccountStore>();

    /// <summary>The agent's services, for what a test reads straight from the store (e.g. the usage log's entries).</summary>
    public IServiceProvider Services => _app.Services;

    /// <param name="emulatorOptions">the upstream's options; by default it requires <see cref="UpstreamKey"/></param>
    /// <param name="settings">agent settings over the fixture's</param>
    /// <param name="recordRequests">the emulator keeps every request it receives (<see cref="RunningEmulator.Received"/>)</param>
    /// <param name="services">services added after the agent's own (one more settlement observer, a store wrapped to fail)</param>
    public static async Task<TestAgent> StartAsync(
        EmulatorOptions? emulatorOptions = null, IDictionary<string, string?>? settings = null, bool recordRequests = false,
        Action<IServiceCollection>? services = null)
    {
        var emulator = await RunningEmulator.StartAsync(emulatorOptions ?? new EmulatorOptions { RequiredApiKey = UpstreamKey }, recordRequests);
        var directory = Directory.CreateTempSubdirectory("meteragent-it-").FullName;
        var proxyPort = FreePort.Next();
        var managementPort = FreePort.Next();
        var config = new Dictionary<string, string?>
        {
            ["MeterAgent:ProxyPort"] = proxyPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["MeterAgent:ManagementPort"] = managementPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["MeterAgent:AdminToken"] = AdminToken,
            ["MeterAgent:Upstreams:openai:ApiKey"] = UpstreamKey,
            ["MeterAgent:Upstreams:anthropic:ApiKey"] = UpstreamKey,
            ["MeterAgent:Upstreams:anthropic:Scheme"] = "XApiKey",
            ["ReverseProxy:Clusters:openai:Destinations:primary:Address"] = emulator.Url,
            ["ReverseProxy:Clusters:anthropic:Destinations:primary:Address"] = emulator.Url,
            ["Store:Path"] = Path.Combine(directory, "meteragent.db"),
            ["Logging:LogLevel:Default"] = "Warning",

            // Tests steer the emulator per request (faults, pacing): those headers must cross the proxy.
            ["MeterAgent:Headers:Request:0"] = "x-emulator-*",
        };
        foreach (var (name, value) in settings ?? new Dictionary<string, string?>())
        {
            config[name] = value;
        }

        var app = MeterAgentHost.Build([], builder => builder.AddInMemoryCollection(config), services);
        try
        {
            await app.StartAsync();
        }
        catch
        {
            // A start refused by validation (a test of a bad setting) must not leave the emulator running.
            await app.DisposeAsync();
            await emulator.DisposeAsync();
            throw;
        }

        var accounts = app.Services.GetRequiredService<IAccountStore>();
        var account = await accounts.CreateAccountAsync("integration");
        var key = await accounts.IssueKeyAsync(account.Id) ?? throw new InvalidOperationException("account vanished");
        return new TestAgent(app, emulator, directory, proxyPort, managementPort, key.Secret, account.Id);
    }

    /// <summary>A JSON POST with the client key as an OpenAI SDK sends it.</summary>
    public HttpRequestMessage OpenAIRequest(string path, string json, string? key = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(json, System.Text.Encoding.UTF8, "application/json") };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key ?? ClientKey);
        return request;
    }

    /// <summary>A JSON POST with the client key as an Anthropic SDK sends it.</summary>
    public HttpRequestMessage AnthropicRequest(string json, string? key = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "v1/messages") { Content = new StringContent(json, System.Text.Encoding.UTF8, "application/json") };
        request.Headers.Add("x-api-key", key ?? ClientKey);
        request.Headers.Add("anthropic-version", "2023-06-01");
        return request;
    }

    /// <summary>The record the response names in its usage-id header.</summary>
    public async Task<UsageRecord> RecordForAsync(HttpResponseMessage response)
    {
        Assert.True(response.Headers.TryGetValues("x-meteragent-usage-id", out var values), "response has no x-meteragent-usage-id header");
        return await RecordAsync(values.Single());
    }

    /// <summary>The record, once closed: closing happens after the client has its last byte.</summary>
    public async Task<UsageRecord> RecordAsync(string usageId) =>
        (await Eventually.ThatAsync(
            async () => await Usage.GetAsync(usageId),
            record => record is { Status: not UsageStatus.Open },
            $"usage record {usageId} closed"))!;

    /// <summary>The account's records (newest first), once none is open.</summary>
    public async Task<IReadOnlyList<UsageRecord>> ClosedRecordsAsync(int expectedCount, string? accountId = null) =>
        await Eventually.ThatAsync(
            async () => await Usage.QueryAsync(new UsageQuery(accountId ?? AccountId, Limit: 1000)),
            records => records.Count >= expectedCount && records.All(r => r.Status != UsageStatus.Open),
            $"{expectedCount} closed records");

    /// <summary>The account's only record, once closed: for SDK calls whose result hides response headers.</summary>
    public async Task<UsageRecord> OnlyRecordAsync()
    {
        var records = await Usage.QueryAsync(new UsageQuery(AccountId, Limit: 10));
        Assert.Single(records);
        return await RecordAsync(records[0].Id);
    }

    public static async Task<JsonElement> JsonAsync(HttpResponseMessage response) =>
        await response.Content.ReadFromJsonAsync<JsonElement>();

    /// <summary>Stops the host (as a SIGTERM would) but keeps its store readable.</summary>
    public Task StopAsync() => _app.StopAsync();

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        Admin.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
        await Emulator.DisposeAsync();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
            // A leftover temp folder is harmless.
        }
    }
}
