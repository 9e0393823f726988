using System.Net;
using System.Net.Http.Headers;
using MeterAgent.Attestation.Checkpoints;
using MeterAgent.Attestation.Merkle;
using MeterAgent.Attestation.Notes;
using MeterAgent.Ledger.Usage;
using Microsoft.Extensions.DependencyInjection;

namespace MeterAgent.IntegrationTests;

/// <summary>The clearing house reads the usage log's signed head: every closed record is a leaf, and the signature checks.</summary>
public sealed class UsageLogTests : IAsyncLifetime
{
    private const string ReadToken = "clearing-house-read-token-for-tests";
    private readonly TempFolder _folder = new("meteragent-log-");
    private NoteKeyPair _key = null!;
    private TestAgent _agent = null!;

    public async Task InitializeAsync()
    {
        _key = NoteKeyPair.Generate("meteragent.test/log");
        _agent = await TestAgent.StartAsync(settings: new Dictionary<string, string?>
        {
            ["Attestation:SigningKeyPath"] = _folder.Write("log.skey", _key.SignerKey),
            ["Attestation:ReadToken"] = ReadToken,
        });
    }

    public async Task DisposeAsync()
    {
        await _agent.DisposeAsync();
        _folder.Dispose();
    }

    private async Task<HttpResponseMessage> CheckpointAsync(string? token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "log/checkpoint");
        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        using var management = new HttpClient { BaseAddress = new Uri(_agent.ManagementUrl) };
        return await management.SendAsync(request);
    }

    [Fact]
    public async Task The_signed_checkpoint_covers_every_closed_record_and_verifies_with_the_published_key()
    {
        for (var i = 0; i < 3; i++)
        {
            using var request = _agent.OpenAIRequest("v1/chat/completions", """{"model":"emu-chat","max_tokens":8,"messages":[{"role":"user","content":"log me"}]}""");
            using var response = await _agent.Http.SendAsync(request);
            await _agent.RecordForAsync(response);
        }

        using var rejected = _agent.OpenAIRequest("v1/chat/completions", "{");
        using (var response = await _agent.Http.SendAsync(rejected))
        {
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        }

        using var management = new HttpClient { BaseAddress = new Uri(_agent.ManagementUrl) };
        var published = (await management.GetStringAsync("log/key")).Trim();
        Assert.Equal(_key.VerifierKey, published);

        var checkpoint = await Eventually.ThatAsync(
            async () =>
            {
                using var response = await CheckpointAsync(ReadToken);
                var note = SignedNote.Open(await response.Content.ReadAsByteArrayAsync(), new NoteVerifiers(NoteVerifier.Parse(published)));
                return Checkpoint.Parse(note.Text);
            },
            c => c.TreeSize == 4,
            "the checkpoint covers the four closed records");

        Assert.Equal("meteragent.test/log", checkpoint.Origin);

        // The root, recomputed from the entries the store holds, is the one signed.
        var entries = await _agent.Services.GetRequiredService<IUsageLog>().ReadAsync(0, 100);
        var tree = new MerkleLog(new InMemoryHashStore());
        foreach (var entry in entries)
        {
            tree.Append(entry);
        }

        var root = new byte[32];
        tree.RootHash(4, root);
        Assert.Equal(root, checkpoint.RootHash.ToArray());
        var records = await _agent.Usage.QueryAsync(new UsageQuery(_agent.AccountId, Limit: 10));
        Assert.Equal(
            records.Select(r => r.Id).Order(StringComparer.Ordinal),
            entries.Select(e => Attestation.Entries.UsageEntryEncoding.Decode(e).UsageId).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task The_checkpoint_needs_the_clearing_houses_token()
    {
        using var none = await CheckpointAsync(null);
        using var wrong = await CheckpointAsync("not-the-read-token-at-all");

        Assert.Equal(HttpStatusCode.Unauthorized, none.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
    }
}
