using System.Security.Cryptography;
using MeterAgent.Attestation.Checkpoints;
using MeterAgent.Attestation.Notes;

namespace MeterAgent.Attestation.Tests.Notes;

/// <summary>
/// The worked example of docs/attestation.md ("Checkpoints and signed notes"), so the document stays true. Its expected strings were computed
/// with node's crypto from the specs, not by this code: a second known answer from an independent implementation.
/// </summary>
public sealed class WorkedExampleTests
{
    private const string Name = "meteragent.example/log";
    private const string SignerKey = "PRIVATE+KEY+meteragent.example/log+e52e06da+AQABAgMEBQYHCAkKCwwNDg8QERITFBUWFxgZGhscHR4f";
    private const string VerifierKey = "meteragent.example/log+e52e06da+AQOhB7/zzhC+HXDdGOdLwJln5NYwm6UNXx3chmQSVTG4";

    private const string Body =
        "meteragent.example/log\n" +
        "1\n" +
        "VKbcG/yZDO0/V1cmTzV61wip7lTOPRFymWQbI09tWAA=\n";

    private const string SignedBody = Body + "\n" +
        "— meteragent.example/log 5S4G2mhP/nGQeYdl3pJgL4SLI9/WA2SpogcyuKcfLFKXgBKwF6nByAIuO402SOAHRIZcgurTFrcvcv+bW1z7Hsqslwg=\n";

    /// <summary>The seed is the bytes 0x00, 0x01, ... 0x1f: public, for the example only.</summary>
    private static byte[] Seed => [.. Enumerable.Range(0, 32).Select(i => (byte)i)];

    [Fact]
    public void The_seed_gives_the_documented_keys()
    {
        var signer = NoteSigner.FromSeed(Name, Seed);

        Assert.Equal(SignerKey, signer.SignerKey);
        Assert.Equal(VerifierKey, signer.Verifier.VerifierKey);
    }

    [Fact]
    public void The_one_leaf_tree_gives_the_documented_checkpoint_body()
    {
        // RFC 6962 leaf hash of the single entry "hello\n": SHA-256(0x00 || entry); a one-leaf tree's root is that hash.
        var root = SHA256.HashData([0x00, .. "hello\n"u8]);

        Assert.Equal(Body, new Checkpoint(Name, 1, root).Format());
    }

    [Fact]
    public void Signing_the_body_gives_the_documented_note_and_it_opens()
    {
        var note = SignedNote.Sign(Body, NoteSigner.Parse(SignerKey));

        Assert.Equal(SignedBody, note.ToString());
        var opened = SignedNote.Open(note.Encode(), new NoteVerifiers(NoteVerifier.Parse(VerifierKey)));
        Assert.Equal(1, Checkpoint.Parse(opened.Text).TreeSize);
    }
}
