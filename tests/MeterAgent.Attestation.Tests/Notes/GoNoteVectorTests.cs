using System.Text;
using MeterAgent.Attestation.Notes;

namespace MeterAgent.Attestation.Tests.Notes;

/// <summary>
/// Known answers from the reference implementation, golang.org/x/mod/sumdb/note: the PeterNeumann key pair and note of
/// its package documentation and note_test.go (TestNewVerifier, TestNewSigner, TestSign, TestOpen), and the EnochRoot
/// cosignature of the same note. A note Go accepts must be accepted here and a note signed here must be Go's, byte
/// for byte: Ed25519 (RFC 8032) is deterministic.
/// </summary>
public sealed class GoNoteVectorTests
{
    internal const string PeterVerifierKey = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
    internal const string PeterSignerKey = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
    internal const string EnochVerifierKey = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop";

    internal const string Text =
        "If you think cryptography is the answer to your problem,\n" +
        "then you don't know what your problem is.\n";

    internal const string PeterLine =
        "— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";

    internal const string EnochLine =
        "— EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n";

    internal static readonly NoteVerifier Peter = NoteVerifier.Parse(PeterVerifierKey);
    internal static readonly NoteVerifier Enoch = NoteVerifier.Parse(EnochVerifierKey);

    internal static byte[] Utf8(string s) => Encoding.UTF8.GetBytes(s);

    [Fact]
    public void The_verifier_key_reads_as_Go_reads_it()
    {
        Assert.Equal("PeterNeumann", Peter.Name);
        Assert.Equal(0xc74f20a3u, Peter.KeyId);
        Assert.Equal(PeterVerifierKey, Peter.VerifierKey);
        Assert.Equal(0xaf0cfe78u, Enoch.KeyId);
    }

    [Fact]
    public void The_signer_key_derives_the_published_verifier_key_and_encodes_back_unchanged()
    {
        var signer = NoteSigner.Parse(PeterSignerKey);

        Assert.Equal(PeterVerifierKey, signer.Verifier.VerifierKey);
        Assert.Equal(PeterSignerKey, signer.SignerKey);
    }

    [Fact]
    public void Signing_the_text_reproduces_the_published_note_byte_for_byte()
    {
        var note = SignedNote.Sign(Text, NoteSigner.Parse(PeterSignerKey));

        Assert.Equal(Text + "\n" + PeterLine, note.ToString());
        Assert.Equal(Utf8(Text + "\n" + PeterLine), note.Encode());
    }

    [Fact]
    public void Re_signing_replaces_the_same_keys_signature_rather_than_repeating_it()
    {
        var signer = NoteSigner.Parse(PeterSignerKey);
        var once = SignedNote.Sign(Text, signer);

        Assert.Equal(once.ToString(), once.AddSignatures(signer).ToString());
    }

    [Fact]
    public void The_published_note_opens_with_the_published_key()
    {
        var opened = SignedNote.Open(Utf8(Text + "\n" + PeterLine), new NoteVerifiers(Peter));

        Assert.Equal(Text, opened.Text);
        var signature = Assert.Single(opened.VerifiedSignatures);
        Assert.Equal(new NoteSignature("PeterNeumann", 0xc74f20a3, PeterLine[15..^1]), signature);
        Assert.Empty(opened.OtherSignatures);
    }

    [Fact]
    public void A_cosignature_by_an_unknown_key_is_kept_for_the_caller_but_not_trusted()
    {
        var opened = SignedNote.Open(Utf8(Text + "\n" + PeterLine + EnochLine), new NoteVerifiers(Peter));

        Assert.Equal("PeterNeumann", Assert.Single(opened.VerifiedSignatures).Name);
        var other = Assert.Single(opened.OtherSignatures);
        Assert.Equal(new NoteSignature("EnochRoot", 0xaf0cfe78, EnochLine[12..^1]), other);
    }

    [Fact]
    public void Both_signatures_verify_when_both_keys_are_trusted()
    {
        var opened = SignedNote.Open(Utf8(Text + "\n" + PeterLine + EnochLine), new NoteVerifiers(Peter, Enoch));

        Assert.Equal(["PeterNeumann", "EnochRoot"], opened.VerifiedSignatures.Select(s => s.Name));
        Assert.Empty(opened.OtherSignatures);
    }

    [Fact]
    public void With_no_trusted_key_the_note_is_refused()
    {
        var error = Assert.Throws<NoteRejectedException>(
            () => SignedNote.Open(Utf8(Text + "\n" + PeterLine + EnochLine), new NoteVerifiers()));

        Assert.Equal(NoteRejection.NoTrustedSignature, error.Rejection);
        Assert.Contains("PeterNeumann+c74f20a3", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Repeated_identical_signatures_are_reported_once()
    {
        var note = Text + "\n" + PeterLine + PeterLine + EnochLine + EnochLine;

        var opened = SignedNote.Open(Utf8(note), new NoteVerifiers(Peter));

        Assert.Single(opened.VerifiedSignatures);
        Assert.Single(opened.OtherSignatures);
    }

    [Fact]
    public void A_corrupted_signature_by_the_trusted_key_rejects_the_note()
    {
        // Go's TestOpen inserts "ABCD" at byte 60 of the signature line (the em dash is three bytes).
        var line = Utf8(PeterLine);
        var corrupted = Encoding.UTF8.GetString([.. line[..60], .. "ABCD"u8, .. line[60..]]);

        var error = Assert.Throws<NoteRejectedException>(
            () => SignedNote.Open(Utf8(Text + "\n" + corrupted), new NoteVerifiers(Peter)));

        Assert.Equal(NoteRejection.InvalidSignature, error.Rejection);
        Assert.Contains("PeterNeumann+c74f20a3", error.Message, StringComparison.Ordinal);
    }

    public static TheoryData<string> GoMalformedNotes() =>
    [
        Text,
        Text + "\n",
        Text + "\n" + PeterLine[..^1],
        "\u0001" + Text + "\n" + PeterLine,
        Text + "\n" + "— Bad Name x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=",
        Text + "\n" + PeterLine + "Unexpected line.\n",
    ];

    [Theory]
    [MemberData(nameof(GoMalformedNotes))]
    public void Go_malformed_notes_are_malformed_here(string note)
    {
        var error = Assert.Throws<NoteRejectedException>(() => SignedNote.Open(Utf8(note), new NoteVerifiers(Peter)));

        Assert.Equal(NoteRejection.Malformed, error.Rejection);
    }

    [Fact]
    public void A_note_that_is_not_UTF8_is_malformed()
    {
        byte[] note = [0xff, .. Utf8(Text + "\n" + PeterLine)];

        var error = Assert.Throws<NoteRejectedException>(() => SignedNote.Open(note, new NoteVerifiers(Peter)));

        Assert.Equal(NoteRejection.Malformed, error.Rejection);
        Assert.Contains("UTF-8", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void More_than_a_hundred_signatures_are_not_read()
    {
        var note = Text + "\n" + string.Concat(Enumerable.Repeat(PeterLine, 101));

        var error = Assert.Throws<NoteRejectedException>(() => SignedNote.Open(Utf8(note), new NoteVerifiers(Peter)));

        Assert.Equal(NoteRejection.Malformed, error.Rejection);
    }

    [Fact]
    public void Every_mangling_of_the_verifier_key_is_refused()
    {
        AssertEveryManglingRefused(PeterVerifierKey, k => NoteVerifier.Parse(k));

        // Go's two hand-made cases: a key of the wrong length, and an unknown signature type, each with a matching ID.
        Assert.Throws<FormatException>(
            () => NoteVerifier.Parse("PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY=="));
        Assert.Throws<FormatException>(
            () => NoteVerifier.Parse("PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"));
    }

    [Fact]
    public void Every_mangling_of_the_signer_key_is_refused()
    {
        AssertEveryManglingRefused(PeterSignerKey, k => NoteSigner.Parse(k));
    }

    /// <summary>Go's TestNewVerifier and TestNewSigner: every proper substring and every single-byte increment.</summary>
    private static void AssertEveryManglingRefused(string key, Action<string> parse)
    {
        var accepted = new List<string>();
        void Expect(string mangled)
        {
            try
            {
                parse(mangled);
                accepted.Add(mangled);
            }
            catch (FormatException)
            {
                // Refused, as it should be.
            }
        }

        for (var i = 0; i <= key.Length; i++)
        {
            for (var j = i + 1; j <= key.Length; j++)
            {
                if (i != 0 || j != key.Length)
                {
                    Expect(key[i..j]);
                }
            }
        }

        var chars = key.ToCharArray();
        for (var i = 0; i < chars.Length; i++)
        {
            chars[i]++;
            Expect(new string(chars));
            chars[i]--;
        }

        Assert.True(accepted.Count == 0, "Accepted manglings:\n" + string.Join("\n", accepted));
    }
}
