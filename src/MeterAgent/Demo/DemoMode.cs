using System.Security.Cryptography;
using MeterAgent.Emulator;
using MeterAgent.Hosting;
using MeterAgent.Ledger.Accounts;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Options;

namespace MeterAgent.Demo;

/// <summary>
/// `--demo`: the agent on the embedded store in front of the in-process emulator, with a demo account and key,
/// so a newcomer sees a request metered with nothing else installed.
/// </summary>
internal static class DemoMode
{
    public static async Task<int> RunAsync(string[] args)
    {
        // The emulator checks the provider credential, which shows the client's key is replaced on the way.
        var upstreamKey = "emu-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(12));
        var adminToken = "admin-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
        await using var emulator = EmulatorApp.Build(
            new EmulatorOptions { RequiredApiKey = upstreamKey, TimeToFirstToken = TimeSpan.FromMilliseconds(80), TokensPerSecond = 150 },
            "http://127.0.0.1:0");
        await emulator.StartAsync();
        var emulatorUrl = emulator.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();

        await using var app = MeterAgentHost.Build(args, config => config.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ReverseProxy:Clusters:openai:Destinations:primary:Address"] = emulatorUrl,
            ["ReverseProxy:Clusters:anthropic:Destinations:primary:Address"] = emulatorUrl,
            ["MeterAgent:Upstreams:openai:ApiKey"] = upstreamKey,
            ["MeterAgent:Upstreams:anthropic:ApiKey"] = upstreamKey,
            ["MeterAgent:Upstreams:anthropic:Scheme"] = nameof(UpstreamAuthScheme.XApiKey),
            ["MeterAgent:AdminToken"] = adminToken,
            ["Store:Path"] = "data/demo.db",
        }));
        await app.StartAsync();

        var accounts = app.Services.GetRequiredService<IAccountStore>();
        var account = await accounts.CreateAccountAsync("demo");
        var key = await accounts.IssueKeyAsync(account.Id) ?? throw new InvalidOperationException("demo account vanished");
        var options = app.Services.GetRequiredService<IOptions<MeterAgentOptions>>().Value;
        var proxy = $"http://{options.ListenAddress}:{options.ProxyPort}";
        var management = $"http://{options.ListenAddress}:{options.ManagementPort}";

        Console.WriteLine($$"""

            MeterAgent demo: proxy on {{proxy}}, management on {{management}}, emulated upstream on {{emulatorUrl}}
            Demo account {{account.Id}}, client key (shown once): {{key.Secret}}

            Send a request as any OpenAI client would:
              curl -s {{proxy}}/v1/chat/completions -H "Authorization: Bearer {{key.Secret}}" -H "Content-Type: application/json" -d '{"model":"demo-model","messages":[{"role":"user","content":"Hello, MeterAgent!"}]}'

            or stream one as an Anthropic client would:
              curl -sN {{proxy}}/v1/messages -H "x-api-key: {{key.Secret}}" -H "anthropic-version: 2023-06-01" -H "Content-Type: application/json" -d '{"model":"demo-claude","max_tokens":40,"stream":true,"messages":[{"role":"user","content":"Hi"}]}'

            Then see its usage record (the response header x-meteragent-usage-id names it):
              curl -s "{{management}}/admin/usage?limit=1" -H "Authorization: Bearer {{adminToken}}"

            Ctrl+C stops the demo. Records stay in data/demo.db.
            """);

        await app.WaitForShutdownAsync();
        await emulator.StopAsync();
        return 0;
    }
}
