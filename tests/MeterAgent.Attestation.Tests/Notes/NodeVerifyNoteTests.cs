using MeterAgent.Attestation.Checkpoints;
using MeterAgent.Attestation.Notes;

namespace MeterAgent.Attestation.Tests.Notes;

/// <summary>
/// Hands notes signed here to tests/attestation-check/verify-note.mjs, a verifier written from the specs on node's own
/// crypto: what a third party would run. It must accept ours and refuse a tampered copy.
/// </summary>
public sealed class NodeVerifyNoteTests
{
    [SkippableFact]
    public void Node_accepts_a_checkpoint_note_signed_here_and_refuses_it_tampered_or_under_another_key()
    {
        Prerequisite.Require(AttestationCheck.NodeIsAvailable(), "node is not on PATH: the independent signed-note check needs it.");

        var pair = NoteKeyPair.Generate("meteragent.example/log");
        var other = NoteKeyPair.Generate("meteragent.example/log");
        var checkpoint = new Checkpoint("meteragent.example/log", 12345, new byte[32].Select((_, i) => (byte)(i * 7)).ToArray());
        var note = SignedNote.Sign(checkpoint.Format(), NoteSigner.Parse(pair.SignerKey)).ToString();
        using var folder = new TempFolder("meteragent-verify-note-");

        var good = RunNode(pair.VerifierKey, folder.Write("good.note", note));
        var tampered = RunNode(pair.VerifierKey, folder.Write("tampered.note", note.Replace("12345", "12346", StringComparison.Ordinal)));
        var wrongKey = RunNode(other.VerifierKey, folder.Write("again.note", note));

        Assert.True(good.ExitCode == 0, $"node refused our note ({good.ExitCode}): {good.Output}");
        Assert.True(tampered.ExitCode == 1, $"node did not refuse the tampered note ({tampered.ExitCode}): {tampered.Output}");
        Assert.Contains("does not verify", tampered.Output, StringComparison.Ordinal);
        Assert.True(wrongKey.ExitCode == 1, $"node accepted the note for another key ({wrongKey.ExitCode}): {wrongKey.Output}");
    }

    [SkippableFact]
    public void Node_accepts_the_Go_reference_note_so_the_script_itself_is_checked()
    {
        Prerequisite.Require(AttestationCheck.NodeIsAvailable(), "node is not on PATH: the independent signed-note check needs it.");
        using var folder = new TempFolder("meteragent-verify-note-");
        var path = folder.Write("peter.note", GoNoteVectorTests.Text + "\n" + GoNoteVectorTests.PeterLine);

        var result = RunNode(GoNoteVectorTests.PeterVerifierKey, path);

        Assert.True(result.ExitCode == 0, $"node refused the Go reference note ({result.ExitCode}): {result.Output}");
    }

    private static (int ExitCode, string Output) RunNode(string verifierKey, string notePath) =>
        AttestationCheck.Run("verify-note.mjs", verifierKey, notePath);
}
