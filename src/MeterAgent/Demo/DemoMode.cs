using System.Security.Cryptography;
using MeterAgent.Contracts.Deliveries;
using MeterAgent.Emulator;
using MeterAgent.Hosting;
using MeterAgent.Ledger.Accounts;
using MeterAgent.Ledger.RateLimits;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Options;
using MeterAgent.Attestation.Notes;
using MeterAgent.Common;

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

        // A clearing house of its own: a demo contract open around today, and the key its deliveries are signed with.
        var clearing = Path.GetFullPath(Path.Combine("data", "demo-clearing"));
        Directory.CreateDirectory(Path.Combine(clearing, "contracts"));
        var now = DateTimeOffset.UtcNow;
        await File.WriteAllTextAsync(Path.Combine(clearing, "contracts", "demo-std.v1.json"), $$"""
            {
              "id": "demo-std",
              "version": 1,
              "eligible_models": ["*"],
              "unit_basis": "reference",
              "weights": { "input": 1, "cached_input": 0.1, "cache_write": 1.25, "output": 1, "reasoning": 1 },
              "delivery_window": { "start": "{{now.AddDays(-1):yyyy-MM-ddTHH:mm:ssZ}}", "end": "{{now.AddDays(90):yyyy-MM-ddTHH:mm:ssZ}}" },
              "settlement_interval": "00:00:30"
            }
            """);

        // The usage log's signing key, kept beside the demo's records so statements of earlier runs still verify; a
        // fresh clearing-house read token each run.
        var logKeyPath = Path.GetFullPath(Path.Combine("data", "demo-log.skey"));
        if (!File.Exists(logKeyPath))
        {
            WritePrivate(logKeyPath, NoteKeyPair.Generate("meteragent.demo/log").SignerKey + "\n");
        }

        var readToken = "clearing-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
        var (signer, _) = DeliverySigner.CreateNew("demo-clearing-house");
        using var clearingHouse = signer;
        await File.WriteAllTextAsync(Path.Combine(clearing, "trusted-keys.json"), clearingHouse.PublicJwksJson);

        await using var app = MeterAgentHost.Build(args, config => config.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Credits:Enabled"] = "true",
            ["Credits:ContractsPath"] = Path.Combine(clearing, "contracts"),
            ["Credits:TrustedKeysPath"] = Path.Combine(clearing, "trusted-keys.json"),
            ["ReverseProxy:Clusters:openai:Destinations:primary:Address"] = emulatorUrl,
            ["ReverseProxy:Clusters:anthropic:Destinations:primary:Address"] = emulatorUrl,
            ["MeterAgent:Upstreams:openai:ApiKey"] = upstreamKey,
            ["MeterAgent:Upstreams:anthropic:ApiKey"] = upstreamKey,
            ["MeterAgent:Upstreams:anthropic:Scheme"] = nameof(UpstreamAuthScheme.XApiKey),
            ["MeterAgent:AdminToken"] = adminToken,
            ["Store:Path"] = "data/demo.db",

            // Statements every 30 s (the contract's interval), closed 5 s after each interval ends.
            ["Attestation:SigningKeyPath"] = logKeyPath,
            ["Attestation:ReadToken"] = readToken,
            ["Attestation:StatementGrace"] = "00:00:05",

            // So a newcomer can try the emulator's faults and pacing through the agent (x-emulator-fault: disconnect, ...).
            ["MeterAgent:Headers:Request:0"] = "x-emulator-*",
        }));
        await app.StartAsync();

        var accounts = app.Services.GetRequiredService<IAccountStore>();
        var account = await accounts.CreateAccountAsync("demo");
        var key = await accounts.IssueKeyAsync(account.Id) ?? throw new InvalidOperationException("demo account vanished");
        // A token rate limit as an operator would set one (PUT /admin/accounts/{id}/rate-limits): every response carries
        // the x-ratelimit-* headers OpenAI clients read.
        await app.Services.GetRequiredService<IRateLimitPolicyStore>().SetAsync(RateLimitSubject.Account(account.Id), new RateLimitPolicy(200_000, 600));
        var options = app.Services.GetRequiredService<IOptions<MeterAgentOptions>>().Value;
        var proxy = $"http://{options.ListenAddress}:{options.ProxyPort}";
        var management = $"http://{options.ListenAddress}:{options.ManagementPort}";
        var logKey = NoteSigner.Parse((await File.ReadAllTextAsync(logKeyPath)).Trim()).Verifier.VerifierKey;

        // Credits land as they would from the clearing house: a signed notice posted to the clearing API.
        var notice = clearingHouse.Sign(new DeliveryNoticeClaims(
            "demo-" + Guid.NewGuid().ToString("N"), "demo-std", 1, account.Id, 100_000m, now.AddMinutes(-1), now.AddDays(30), now));
        using (var http = new HttpClient())
        using (var delivered = await http.PostAsync($"{management}/clearing/deliveries", new StringContent(notice, System.Text.Encoding.ASCII, "application/jose")))
        {
            if (!delivered.IsSuccessStatusCode)
            {
                Console.Error.WriteLine($"demo delivery refused: {(int)delivered.StatusCode} {await delivered.Content.ReadAsStringAsync()}");
                return 1;
            }
        }

        Console.WriteLine($$"""

            MeterAgent demo: proxy on {{proxy}}, management on {{management}}, emulated upstream on {{emulatorUrl}}
            Demo account {{account.Id}}, client key (shown once): {{key.Secret}}
            The demo clearing house delivered 100,000 units of contract demo-std to it.

            Send a request as any OpenAI client would:
              curl -s {{proxy}}/v1/chat/completions -H "Authorization: Bearer {{key.Secret}}" -H "Content-Type: application/json" -d '{"model":"emu-chat","messages":[{"role":"user","content":"Hello, MeterAgent!"}]}'

            or stream one as an Anthropic client would:
              curl -sN {{proxy}}/v1/messages -H "x-api-key: {{key.Secret}}" -H "anthropic-version: 2023-06-01" -H "Content-Type: application/json" -d '{"model":"emu-claude","max_tokens":40,"stream":true,"messages":[{"role":"user","content":"Hi"}]}'

            Then see its usage record (the response header x-meteragent-usage-id names it):
              curl -s "{{management}}/admin/usage?limit=1" -H "Authorization: Bearer {{adminToken}}"

            and the account's balance, with its own key (redeemed grows with every request; `usage` holds the live
            counters per contract and model):
              curl -s {{proxy}}/v1/meteragent/balance -H "Authorization: Bearer {{key.Secret}}"

            The account is limited to 200,000 tokens and 600 requests a minute; each response says how much is left:
              curl -si {{proxy}}/v1/chat/completions -H "Authorization: Bearer {{key.Secret}}" -H "Content-Type: application/json" -d '{"model":"emu-chat","max_tokens":16,"messages":[{"role":"user","content":"Hi"}]}' | grep -i x-ratelimit

            The web console, in a browser (docs/console.md):
              operator (sign in with the admin token {{adminToken}}): {{management}}/console
              the demo account (sign in with its client key above):   {{proxy}}/console

            SREs scrape {{management}}/metrics; the admin, clearing and account APIs are described at
            {{management}}/openapi/admin.json, /openapi/clearing.json and /openapi/account.json.

            Every closed record is a leaf of a signed transparency log. The clearing house reads its checkpoint
            (C2SP signed note) and, 5 s after each 30 s settlement interval, the signed statement per contract:
              curl -s {{management}}/log/checkpoint -H "Authorization: Bearer {{readToken}}"
              curl -s {{management}}/log/statements -H "Authorization: Bearer {{readToken}}"

            The log's public key (C2SP vkey): {{logKey}}
            Check the log, its statements and their sums, as the clearing house would:
              dotnet run --project src/MeterAgent -- verify --log {{management}} --token {{readToken}} --key {{logKey}}

            More replicas share one Redis with --Store:Kind=redis --Redis:ConnectionString=host:6379 (docs/distributed.md);
            `dotnet run --project src/MeterAgent -- --check-config` checks a configuration without starting.

            Ctrl+C stops the demo. Records stay in {{Path.GetFullPath(Path.Combine("data", "demo.db"))}}.
            """);

        await app.WaitForShutdownAsync();
        await emulator.StopAsync();
        return 0;
    }

    /// <summary>A secret file readable by its owner alone (0600), as any signing key should be.</summary>
    private static void WritePrivate(string path, string content)
    {
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        using var writer = new StreamWriter(path, System.Text.Encoding.ASCII, options);
        writer.Write(content);
    }
}
