using System.Globalization;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using MeterAgent.Contracts.Deliveries;

namespace MeterAgent.Testing;

/// <summary>
/// A clearing house for tests: a contract spec folder with one contract open around now, a signing key whose public
/// half the agent trusts, and signed deliveries posted to the agent's clearing API.
/// </summary>
public sealed class ClearingHouse : IDisposable
{
    public const string ContractId = "test-std";

    private ClearingHouse(string directory, DeliverySigner signer)
    {
        Directory = directory;
        Signer = signer;
    }

    public string Directory { get; }

    public DeliverySigner Signer { get; }

    public DateTimeOffset WindowStart { get; } = DateTimeOffset.UtcNow.AddDays(-1);

    public DateTimeOffset WindowEnd { get; } = DateTimeOffset.UtcNow.AddDays(30);

    /// <summary>Reference basis; input 1 unit per token, output and reasoning 2.</summary>
    /// <param name="unitBasis">The test contract's unit basis: "reference" or "native".</param>
    /// <param name="settlementInterval">The contract's settlement interval, [d.]hh:mm:ss (statements close at its ends).</param>
    public static ClearingHouse Create(string unitBasis = "reference", string settlementInterval = "00:15:00")
    {
        var directory = System.IO.Directory.CreateTempSubdirectory("meteragent-clearing-").FullName;
        var contracts = Path.Combine(directory, "contracts");
        System.IO.Directory.CreateDirectory(contracts);
        var (signer, _) = DeliverySigner.CreateNew("test-clearing-key");
        var house = new ClearingHouse(directory, signer);
        File.WriteAllText(Path.Combine(contracts, "test-std.v1.json"), $$"""
            {
              "id": "{{ContractId}}",
              "version": 1,
              "eligible_models": ["emu-*"],
              "unit_basis": "{{unitBasis}}",
              "weights": { "input": 1, "cached_input": 0.1, "cache_write": 1.25, "output": 2, "reasoning": 2 },
              "delivery_window": { "start": "{{house.WindowStart.AddDays(-10):O}}", "end": "{{house.WindowEnd.AddDays(10):O}}" },
              "settlement_interval": "{{settlementInterval}}"
            }
            """);
        File.WriteAllText(Path.Combine(directory, "clearing-jwks.json"), signer.PublicJwksJson);
        return house;
    }

    /// <summary>The agent settings that turn credits on with this clearing house.</summary>
    public Dictionary<string, string?> AgentSettings(params (string Key, string Value)[] more)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Credits:Enabled"] = "true",
            ["Credits:ContractsPath"] = Path.Combine(Directory, "contracts"),
            ["Credits:TrustedKeysPath"] = Path.Combine(Directory, "clearing-jwks.json"),
        };
        foreach (var (key, value) in more)
        {
            settings[key] = value;
        }

        return settings;
    }

    public string Notice(string accountId, decimal quantity, string? deliveryId = null, DateTimeOffset? windowEnd = null) =>
        Signer.Sign(new DeliveryNoticeClaims(
            deliveryId ?? "dlv-" + Guid.NewGuid().ToString("N"),
            ContractId,
            1,
            accountId,
            quantity,
            WindowStart,
            windowEnd ?? WindowEnd,
            DateTimeOffset.UtcNow));

    public static async Task<HttpResponseMessage> PostAsync(HttpClient management, string jws) =>
        await management.PostAsync("clearing/deliveries", new StringContent(jws, Encoding.ASCII, "application/jose"));

    public static async Task<JsonElement> DeliverAsync(HttpClient management, string jws)
    {
        using var response = await PostAsync(management, jws);
        Assert.Equal(System.Net.HttpStatusCode.Created, response.StatusCode);
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    public static decimal Units(JsonElement element, string name) =>
        decimal.Parse(element.GetProperty(name).GetRawText(), CultureInfo.InvariantCulture);

    public void Dispose()
    {
        Signer.Dispose();
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
            // A leftover temp folder is harmless.
        }
    }
}
