using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using MeterAgent.Contracts.Deliveries;
using MeterAgent.Credits;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace MeterAgent.IntegrationTests;

/// <summary>The clearing house rotates its key: the agent picks up the rewritten trusted-keys file without a restart.</summary>
public sealed class DeliveryKeyRotationTests : IAsyncLifetime
{
    private ClearingHouse _house = null!;
    private TestAgent _agent = null!;

    private string KeysFile => Path.Combine(_house.Directory, "clearing-jwks.json");

    public async Task InitializeAsync()
    {
        _house = ClearingHouse.Create();

        // The watcher normally reloads within a fraction of a second; the short poll bounds the wait where it cannot watch.
        _agent = await TestAgent.StartAsync(settings: _house.AgentSettings(("Credits:TrustedKeysPollInterval", "00:00:02")));
    }

    public async Task DisposeAsync()
    {
        await _agent.DisposeAsync();
        _house.Dispose();
    }

    [Fact]
    public async Task A_rewritten_key_file_is_trusted_without_a_restart_and_the_removed_key_is_not()
    {
        await ClearingHouse.DeliverAsync(_agent.Admin, _house.Notice(_agent.AccountId, 1));
        var (rotated, _) = DeliverySigner.CreateNew("test-clearing-key-2");
        using (rotated)
        {
            using (var before = await ClearingHouse.PostAsync(_agent.Admin, Sign(rotated, "dlv-before")))
            {
                Assert.Equal(HttpStatusCode.Unauthorized, before.StatusCode);
            }

            await File.WriteAllTextAsync(KeysFile, rotated.PublicJwksJson);

            // The 2 s poll bounds the reload where the watcher cannot see the change; the kit's deadline is far above it.
            var attempt = 0;
            await Eventually.TrueAsync(
                async () =>
                {
                    using var response = await ClearingHouse.PostAsync(_agent.Admin, Sign(rotated, $"dlv-rotated-{attempt++}"));
                    return response.StatusCode == HttpStatusCode.Created;
                },
                "a notice signed by the new key is accepted");

            using var old = await ClearingHouse.PostAsync(_agent.Admin, _house.Notice(_agent.AccountId, 1));
            Assert.Equal(HttpStatusCode.Unauthorized, old.StatusCode);
            Assert.Equal(DeliveryErrorCodes.UnknownKey, (await old.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("code").GetString());
        }
    }

    [Fact]
    public void A_bad_new_file_keeps_the_old_keys_and_logs_the_file_but_no_key_material()
    {
        var log = new CapturingLogger();
        var keys = NewTrustedKeys(log);
        var (next, _) = DeliverySigner.CreateNew("next-key");
        using (next)
        {
            // A private key pasted by mistake: refused, and its d must not reach the log.
            var withPrivate = JsonNode.Parse(next.PublicJwksJson)!;
            withPrivate["keys"]![0]!["d"] = "c2VjcmV0LXByaXZhdGUta2V5LW1hdGVyaWFsLWRvLW5vdC1sb2c";
            File.WriteAllText(KeysFile, withPrivate.ToJsonString());

            Assert.False(keys.ReloadIfChanged());

            Assert.Equal(["test-clearing-key"], keys.Current.KeyIds);
            var error = Assert.Single(log.Entries, e => e.Level == LogLevel.Error);
            Assert.Contains(KeysFile, error.Message, StringComparison.Ordinal);
            Assert.Contains("next-key", error.Message, StringComparison.Ordinal);
            Assert.DoesNotContain("c2VjcmV0", error.Message, StringComparison.Ordinal);
            Assert.DoesNotContain((string)withPrivate["keys"]![0]!["x"]!, error.Message, StringComparison.Ordinal);

            // The same bad content again is not reported again; garbage is reported once, without quoting it.
            Assert.False(keys.ReloadIfChanged());
            File.WriteAllText(KeysFile, "{\"keys\": [ oops " + (string)withPrivate["keys"]![0]!["x"]!);
            Assert.False(keys.ReloadIfChanged());
            Assert.Equal(2, log.Entries.Count(e => e.Level == LogLevel.Error));
            Assert.DoesNotContain(log.Entries, e => e.Message.Contains((string)withPrivate["keys"]![0]!["x"]!, StringComparison.Ordinal));
            Assert.Equal(["test-clearing-key"], keys.Current.KeyIds);

            // A good file after the bad ones is taken.
            File.WriteAllText(KeysFile, next.PublicJwksJson);
            Assert.True(keys.ReloadIfChanged());
            Assert.Equal(["next-key"], keys.Current.KeyIds);
            Assert.False(keys.ReloadIfChanged());
        }
    }

    [Fact]
    public void Reloaded_keys_keep_the_configured_claim_rules()
    {
        var keys = NewTrustedKeys(new CapturingLogger(), providerId: "provider-a");
        var (next, _) = DeliverySigner.CreateNew("next-key");
        using (next)
        {
            File.WriteAllText(KeysFile, next.PublicJwksJson);
            Assert.True(keys.ReloadIfChanged());

            var payload = $$"""{"delivery_id":"d","contract_id":"{{ClearingHouse.ContractId}}","contract_version":1,"account_id":"a","quantity":"1","window_start":"{{_house.WindowStart:O}}","window_end":"{{_house.WindowEnd:O}}","iat":{{DateTimeOffset.UtcNow.ToUnixTimeSeconds()}},"aud":"provider-b"}""";
            var catalog = Contracts.Specs.ContractCatalog.LoadFolder(Path.Combine(_house.Directory, "contracts"));

            Assert.Equal(DeliveryErrorCodes.WrongAudience, keys.Current.Verify(next.SignPayload(payload), catalog, DateTimeOffset.UtcNow).ErrorCode);
        }
    }

    private TrustedKeys NewTrustedKeys(CapturingLogger log, string? providerId = null) => new(
        Options.Create(new CreditsOptions { Enabled = true, TrustedKeysPath = KeysFile }),
        Options.Create(new DeliveryOptions { ProviderId = providerId }),
        log);

    private string Sign(DeliverySigner signer, string deliveryId) => signer.Sign(new DeliveryNoticeClaims(
        deliveryId, ClearingHouse.ContractId, 1, _agent.AccountId, 1, _house.WindowStart, _house.WindowEnd, DateTimeOffset.UtcNow));

    private sealed class CapturingLogger : ILogger<TrustedKeys>
    {
        public List<(LogLevel Level, string Message)> Entries { get; } = [];

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            lock (Entries)
            {
                Entries.Add((logLevel, formatter(state, exception) + (exception is null ? string.Empty : " " + exception)));
            }
        }
    }
}
