using System.Diagnostics;
using MeterAgent.Attestation.Checkpoints;
using MeterAgent.Attestation.Notes;

namespace MeterAgent.Attestation.Tests.Notes;

/// <summary>
/// Hands notes signed here to tests/attestation-check/verify-note.mjs, a verifier written from the specs on node's own
/// crypto: what a third party would run. It must accept ours and refuse a tampered copy.
/// </summary>
public sealed class NodeVerifyNoteTests
{
    private static readonly string CheckDirectory = Path.Combine(RepoRoot.Path, "tests", "attestation-check");

    [SkippableFact]
    public void Node_accepts_a_checkpoint_note_signed_here_and_refuses_it_tampered_or_under_another_key()
    {
        Prerequisite.Require(NodeIsAvailable(), "node is not on PATH: the independent signed-note check needs it.");

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
        Prerequisite.Require(NodeIsAvailable(), "node is not on PATH: the independent signed-note check needs it.");
        using var folder = new TempFolder("meteragent-verify-note-");
        var path = folder.Write("peter.note", GoNoteVectorTests.Text + "\n" + GoNoteVectorTests.PeterLine);

        var result = RunNode(GoNoteVectorTests.PeterVerifierKey, path);

        Assert.True(result.ExitCode == 0, $"node refused the Go reference note ({result.ExitCode}): {result.Output}");
    }

    private static bool NodeIsAvailable()
    {
        try
        {
            using var node = Process.Start(new ProcessStartInfo("node", "--version") { RedirectStandardOutput = true });
            return node is not null && node.WaitForExit(TimeSpan.FromSeconds(30)) && node.ExitCode == 0;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return false;
        }
    }

    private static (int ExitCode, string Output) RunNode(string verifierKey, string notePath)
    {
        var start = new ProcessStartInfo("node")
        {
            WorkingDirectory = CheckDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.ArgumentList.Add("verify-note.mjs");
        start.ArgumentList.Add(verifierKey);
        start.ArgumentList.Add(notePath);

        using var node = Process.Start(start) ?? throw new InvalidOperationException("node did not start");
        var stdout = node.StandardOutput.ReadToEndAsync();
        var stderr = node.StandardError.ReadToEndAsync();
        if (!node.WaitForExit(TimeSpan.FromMinutes(1)))
        {
            node.Kill();
            Assert.Fail("node verify-note.mjs did not finish in a minute");
        }

        return (node.ExitCode, stdout.Result + stderr.Result);
    }
}
