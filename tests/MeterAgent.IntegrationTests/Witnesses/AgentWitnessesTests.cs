using System.Net;
using System.Net.Http.Headers;
using MeterAgent.Attestation.Checkpoints;
using MeterAgent.Attestation.Notes;
using MeterAgent.Attestation.Witnesses;
using MeterAgent.Verify;

namespace MeterAgent.IntegrationTests.Witnesses;

/// <summary>
/// The whole path, agent to witnesses to verifier: an agent configured with two witnesses publishes checkpoints they
/// cosign, a fork signed with the log's own key is refused by each, and <c>meteragent verify</c> against the agent's
/// management port passes with a quorum of 2 and fails with 3.
/// </summary>
public sealed class AgentWitnessesTests : IAsyncLifetime
{
    private const string ReadToken = "clearing-house-read-token-for-tests";
    private readonly TempFolder _folder = new("meteragent-witnessed-agent-");
    private readonly NoteSigner _logKey = NoteSigner.Parse(NoteKeyPair.Generate("meteragent.test/log").SignerKey);
    private RunningWitness _w1 = null!;
    private RunningWitness _w2 = null!;
    private TestAgent _agent = null!;

    public async Task InitializeAsync()
    {
        _w1 = await RunningWitness.StartAsync("witness.test/w1", _logKey.Verifier.VerifierKey);
        _w2 = await RunningWitness.StartAsync("witness.test/w2", _logKey.Verifier.VerifierKey);
        _agent = await TestAgent.StartAsync(settings: new Dictionary<string, string?>
        {
            ["Attestation:SigningKeyPath"] = _folder.Write("log.skey", _logKey.SignerKey),
            ["Attestation:ReadToken"] = ReadToken,
            ["Attestation:Witnesses:0:Url"] = _w1.Url,
            ["Attestation:Witnesses:0:VerifierKey"] = _w1.VerifierKey,
            ["Attestation:Witnesses:1:Url"] = _w2.Url,
            ["Attestation:Witnesses:1:VerifierKey"] = _w2.VerifierKey,
        });
    }

    public async Task DisposeAsync()
    {
        await _agent.DisposeAsync();
        await _w1.DisposeAsync();
        await _w2.DisposeAsync();
        _folder.Dispose();
    }

    [Fact]
    public async Task Checkpoints_are_cosigned_by_both_witnesses_forks_are_refused_and_verify_counts_the_quorum()
    {
        using var management = new HttpClient { BaseAddress = new Uri(_agent.ManagementUrl), Timeout = TimeSpan.FromSeconds(30) };
        for (var i = 0; i < 3; i++)
        {
            using var request = _agent.OpenAIRequest("v1/chat/completions", """{"model":"emu-chat","max_tokens":8,"messages":[{"role":"user","content":"witness me"}]}""");
            using var response = await _agent.Http.SendAsync(request);
            await _agent.RecordForAsync(response);
        }

        // The published checkpoint covers the three records, signed by the log and cosigned by both witnesses.
        var witnesses = new NoteVerifiers(CosignatureV1.ParseVerifier(_w1.VerifierKey), CosignatureV1.ParseVerifier(_w2.VerifierKey));
        var (checkpoint, cosigners) = await Eventually.ThatAsync(
            async () =>
            {
                using var request = new HttpRequestMessage(HttpMethod.Get, "log/checkpoint");
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", ReadToken);
                using var response = await management.SendAsync(request);
                var bytes = await response.Content.ReadAsByteArrayAsync();
                var note = SignedNote.Parse(bytes);
                var opened = note.Verify(new NoteVerifiers(_logKey.Verifier));
                return (Checkpoint.Parse(opened.Text), CosignatureV1.VerifyAll(note, witnesses).Count);
            },
            c => c.Item1.TreeSize >= 3 && c.Item2 == 2,
            "a checkpoint of the three records cosigned by both witnesses");

        // A fork of that size, signed with the log's own key, is refused by each witness.
        var forked = SignedNote.Sign(new Checkpoint(checkpoint.Origin, checkpoint.TreeSize, new byte[32]).Format(), _logKey).Encode();
        using var http = new HttpClient();
        foreach (var witness in new[] { _w1, _w2 })
        {
            using var content = new ByteArrayContent(new AddCheckpointRequest(checkpoint.TreeSize, [], forked).Format());
            using var response = await http.PostAsync(new Uri(witness.Url + "/add-checkpoint"), content);
            Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        }

        // verify reads the agent's API: a quorum of the two holds, three witnesses with a quorum of 3 does not.
        string[] verify =
        [
            "verify", "--log", _agent.ManagementUrl.TrimEnd('/'), "--key", _logKey.Verifier.VerifierKey, "--token", ReadToken,
            "--witness", _w1.VerifierKey, "--witness", _w2.VerifierKey,
        ];
        var third = CosignatureV1.GenerateKey("witness.test/w3").VerifierKey;
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();

        Assert.True(await MeterAgentTool.RunAsync([.. verify, "--quorum", "2"], stdout, stderr) == 0, stderr.ToString());
        Assert.Contains("cosigned by 2 of 2 witnesses (quorum 2)", stdout.ToString(), StringComparison.Ordinal);
        Assert.Equal(1, await MeterAgentTool.RunAsync([.. verify, "--witness", third, "--quorum", "3"], stdout, stderr));
        Assert.Contains("the quorum is 3", stderr.ToString(), StringComparison.Ordinal);
        Assert.Equal(2, await MeterAgentTool.RunAsync([.. verify, "--quorum", "3"], TextWriter.Null, TextWriter.Null));
    }
}
