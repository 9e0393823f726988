using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using MeterAgent.Attestation.Checkpoints;
using MeterAgent.Attestation.Notes;

namespace MeterAgent.IntegrationTests;

/// <summary>
/// What a clearing house does against the usage log of a <see cref="TestAgent"/>: records made through the proxy, and
/// the log read over real HTTP on the management port with the read token, every note checked with the log's key.
/// </summary>
internal sealed class UsageLogClient : IDisposable
{
    public const string ReadToken = "clearing-house-read-token-for-tests";
    public const string Origin = "meteragent.test/log";

    private readonly TestAgent _agent;

    public UsageLogClient(TestAgent agent, NoteKeyPair key)
    {
        _agent = agent;
        Verifiers = new NoteVerifiers(NoteVerifier.Parse(key.VerifierKey));
        Http = new HttpClient { BaseAddress = new Uri(agent.ManagementUrl), Timeout = TimeSpan.FromSeconds(30) };
        Http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", ReadToken);
    }

    /// <summary>The management port with the read token.</summary>
    public HttpClient Http { get; }

    public NoteVerifiers Verifiers { get; }

    /// <summary>The agent's settings for a signed log: the key's file in <paramref name="folder"/>, the read token, and more.</summary>
    public static Dictionary<string, string?> Settings(TempFolder folder, NoteKeyPair key, params (string Name, string Value)[] more)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Attestation:SigningKeyPath"] = folder.Write("log.skey", key.SignerKey),
            ["Attestation:ReadToken"] = ReadToken,
        };
        foreach (var (name, value) in more)
        {
            settings[name] = value;
        }

        return settings;
    }

    /// <summary>Makes <paramref name="count"/> metered requests (a few at a time) and returns their usage ids, once each record is closed.</summary>
    public async Task<IReadOnlyList<string>> MakeRecordsAsync(int count, string? clientKey = null)
    {
        using var gate = new SemaphoreSlim(8);
        var ids = await Task.WhenAll(Enumerable.Range(0, count).Select(async i =>
        {
            await gate.WaitAsync();
            try
            {
                using var request = _agent.OpenAIRequest("v1/chat/completions", $$"""{"model":"emu-chat","max_tokens":4,"messages":[{"role":"user","content":"log me {{i}}"}]}""", clientKey);
                using var response = await _agent.Http.SendAsync(request);
                response.EnsureSuccessStatusCode();
                return (await _agent.RecordForAsync(response)).Id;
            }
            finally
            {
                gate.Release();
            }
        }));
        return ids;
    }

    /// <summary>The published checkpoint, its signature checked with the log's key; and the note as served.</summary>
    public async Task<(Checkpoint Checkpoint, string Note)> CheckpointAsync()
    {
        var note = await Http.GetStringAsync("log/checkpoint");
        return (Open(note), note);
    }

    /// <summary>The checkpoint once it covers <paramref name="size"/> entries.</summary>
    public async Task<(Checkpoint Checkpoint, string Note)> CheckpointOfSizeAsync(long size) =>
        await Eventually.ThatAsync(CheckpointAsync, c => c.Checkpoint.TreeSize >= size, $"a published checkpoint of size {size}");

    /// <summary>A signed note's checkpoint, once its signature by the log's key is checked.</summary>
    public Checkpoint Open(string note) => Checkpoint.Parse(SignedNote.Open(System.Text.Encoding.UTF8.GetBytes(note), Verifiers).Text);

    /// <summary>The inclusion proof of a record, once its entry is in the log (entries are appended shortly after the close).</summary>
    public async Task<JsonElement> InclusionAsync(string usageId, long? treeSize = null) =>
        await Eventually.ThatAsync(
            async () =>
            {
                using var response = await Http.GetAsync($"log/proof/inclusion?usage_id={usageId}" + (treeSize is { } n ? $"&tree_size={n}" : ""));
                return response.IsSuccessStatusCode ? await response.Content.ReadFromJsonAsync<JsonElement>() : default;
            },
            json => json.ValueKind == JsonValueKind.Object,
            $"an inclusion proof of {usageId}");

    public static byte[] Bytes(JsonElement element) => element.GetBytesFromBase64();

    /// <summary>The proof's hashes, concatenated as <c>InclusionProof.Verify</c> and <c>ConsistencyProof.Verify</c> take them.</summary>
    public static byte[] Hashes(JsonElement proof) => [.. proof.GetProperty("hashes").EnumerateArray().SelectMany(h => h.GetBytesFromBase64())];

    public void Dispose() => Http.Dispose();
}
