using System.Text;
using MeterAgent.Attestation.Notes;
using MeterAgent.Attestation.Statements;

namespace MeterAgent.Attestation.Tests.Statements;

/// <summary>Statements signed with the log's key: opened here, and by node's crypto from the specs alone.</summary>
public sealed class StatementEnvelopeTests
{
    private static readonly NoteSigner Signer = NoteSigner.Parse(NoteKeyPair.Generate("meteragent.example/log").SignerKey);

    private static UsageStatement Statement() => new()
    {
        Sequence = 1,
        ContractId = "gpt4o-2026q1",
        IntervalStart = new DateTimeOffset(2026, 11, 29, 12, 0, 0, TimeSpan.Zero),
        IntervalEnd = new DateTimeOffset(2026, 11, 29, 12, 15, 0, TimeSpan.Zero),
        LogOrigin = "meteragent.example/log",
        TreeSize = 7,
        RootHash = new byte[32],
        Leaves = [0, 1, 2],
        Accounts = [],
    };

    [Fact]
    public void A_statement_opens_with_the_logs_verifier_key_and_no_other()
    {
        var envelope = StatementEnvelope.Sign(Statement(), Signer);

        var (statement, failure) = StatementEnvelope.Open(envelope, Signer.Verifier);
        Assert.Null(failure);
        Assert.Equal(7, statement!.TreeSize);
        var stranger = NoteSigner.Parse(NoteKeyPair.Generate("meteragent.example/log").SignerKey);
        Assert.StartsWith("no valid signature", StatementEnvelope.Open(envelope, stranger.Verifier).Failure, StringComparison.Ordinal);
    }

    [SkippableFact]
    public void Node_accepts_a_statement_signed_here_and_refuses_it_tampered()
    {
        Prerequisite.Require(AttestationCheck.NodeIsAvailable(), "node is not on PATH: the independent DSSE check needs it.");
        using var folder = new TempFolder("meteragent-verify-dsse-");
        var envelope = Encoding.UTF8.GetString(StatementEnvelope.Sign(Statement(), Signer));
        var payload = Encoding.UTF8.GetString(Convert.FromBase64String(System.Text.Json.JsonDocument.Parse(envelope).RootElement.GetProperty("payload").GetString()!));
        var forged = envelope.Replace(
            Convert.ToBase64String(Encoding.UTF8.GetBytes(payload)),
            Convert.ToBase64String(Encoding.UTF8.GetBytes(payload.Replace("\"sequence\":1", "\"sequence\":2", StringComparison.Ordinal))),
            StringComparison.Ordinal);
        Assert.NotEqual(envelope, forged);

        var good = AttestationCheck.Run("verify-dsse.mjs", Signer.Verifier.VerifierKey, folder.Write("good.json", envelope));
        var tampered = AttestationCheck.Run("verify-dsse.mjs", Signer.Verifier.VerifierKey, folder.Write("forged.json", forged));

        Assert.True(good.ExitCode == 0, $"node refused our statement ({good.ExitCode}): {good.Output}");
        Assert.Contains("ok: statement 1 of contract gpt4o-2026q1, tree 7", good.Output, StringComparison.Ordinal);
        Assert.True(tampered.ExitCode == 1, $"node accepted a forged statement ({tampered.ExitCode}): {tampered.Output}");
    }
}
