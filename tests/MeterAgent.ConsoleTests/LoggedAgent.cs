using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using MeterAgent.Attestation.Notes;

namespace MeterAgent.ConsoleTests;

/// <summary>
/// A real agent with the usage log signed and credits from a clearing house whose contract settles every 2 s, so a
/// record is in a published checkpoint and counted by a closed statement; three records of its account, and the
/// <see cref="VerifyHarness"/> in front of it.
/// </summary>
public sealed class LoggedAgent : IAsyncLifetime
{
    public const string Origin = "meteragent.test/log";
    public const string ReadToken = "clearing-house-read-token-for-console-tests";

    private readonly TempFolder _folder = new("meteragent-console-");
    private ClearingHouse _house = null!;

    public NoteKeyPair Key { get; } = NoteKeyPair.Generate(Origin);

    public TestAgent Agent { get; private set; } = null!;

    public VerifyHarness Harness { get; private set; } = null!;

    /// <summary>The management port with the clearing house's read token.</summary>
    public HttpClient Clearing { get; private set; } = null!;

    public IReadOnlyList<string> UsageIds { get; private set; } = [];

    public async Task InitializeAsync()
    {
        _house = ClearingHouse.Create(settlementInterval: "00:00:02");
        Agent = await TestAgent.StartAsync(settings: _house.AgentSettings(
            ("Attestation:SigningKeyPath", _folder.Write("log.skey", Key.SignerKey)),
            ("Attestation:ReadToken", ReadToken),
            ("Attestation:StatementGrace", "00:00:01")));
        await ClearingHouse.DeliverAsync(Agent.Admin, _house.Notice(Agent.AccountId, 100_000m));
        Clearing = new HttpClient { BaseAddress = new Uri(Agent.ManagementUrl), Timeout = TimeSpan.FromSeconds(30) };
        Clearing.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", ReadToken);

        var ids = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            using var request = Agent.OpenAIRequest("v1/chat/completions",
                $$"""{"model":"emu-chat","max_tokens":6,"messages":[{"role":"user","content":"bill me {{i}}"}]}""");
            using var response = await Agent.Http.SendAsync(request);
            response.EnsureSuccessStatusCode();
            ids.Add((await Agent.RecordForAsync(response)).Id);
        }

        UsageIds = ids;

        // Every record in the published log and counted by a closed statement before any test looks.
        foreach (var id in ids)
        {
            await Eventually.ThatAsync(
                () => ProofAsync(id),
                proof => proof is { } p && p.GetProperty("statements").GetArrayLength() > 0,
                $"record {id} proved and counted by a statement", TimeSpan.FromSeconds(60));
        }

        Harness = await VerifyHarness.StartAsync(Agent.ProxyUrl, Agent.ClientKey);
        Harness.UsageIds = ids;
    }

    /// <summary>The account's proof of a record, as the agent answers it on the client port with the account's key; null until it can.</summary>
    public async Task<JsonElement?> ProofAsync(string usageId)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"v1/meteragent/log/proof/{usageId}");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Agent.ClientKey);
        using var response = await Agent.Http.SendAsync(request);
        return response.StatusCode == HttpStatusCode.OK ? await response.Content.ReadFromJsonAsync<JsonElement>() : null;
    }

    public async Task DisposeAsync()
    {
        if (Harness is not null)
        {
            await Harness.DisposeAsync();
        }

        Clearing?.Dispose();
        if (Agent is not null)
        {
            await Agent.DisposeAsync();
        }

        _house?.Dispose();
        _folder.Dispose();
    }
}
