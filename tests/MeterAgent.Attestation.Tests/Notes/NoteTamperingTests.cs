using System.Text;
using MeterAgent.Attestation.Notes;

namespace MeterAgent.Attestation.Tests.Notes;

/// <summary>What an attacker or a broken transport can do to a signed note, and the reason each is refused.</summary>
public sealed class NoteTamperingTests
{
    private const string Text = "meteragent.example/log\n42\nVKbcG/yZDO0/V1cmTzV61wip7lTOPRFymWQbI09tWAA=\n";

    private static readonly NoteSigner Signer = NoteSigner.Parse(NoteKeyPair.Generate("meteragent.example/log").SignerKey);
    private static readonly NoteVerifiers Trusted = new(Signer.Verifier);
    private static readonly string Note = SignedNote.Sign(Text, Signer).ToString();

    private static NoteRejectedException Rejected(string note) =>
        Assert.Throws<NoteRejectedException>(() => SignedNote.Open(Encoding.UTF8.GetBytes(note), Trusted));

    [Fact]
    public void The_untouched_note_opens()
    {
        Assert.Equal(Text, SignedNote.Open(Encoding.UTF8.GetBytes(Note), Trusted).Text);
    }

    [Fact]
    public void Every_single_byte_change_in_the_text_is_refused_as_an_invalid_signature()
    {
        var bytes = Encoding.UTF8.GetBytes(Note);
        for (var i = 0; i < Text.Length - 1; i++)
        {
            var tampered = (byte[])bytes.Clone();

            // A changed byte that stays a printable ASCII character: still well formed, so only the signature can tell.
            tampered[i] = (byte)(tampered[i] == (byte)'\n' ? '\n' : tampered[i] == (byte)'A' ? 'B' : 'A');
            if (tampered.AsSpan().SequenceEqual(bytes))
            {
                continue;
            }

            var error = Assert.Throws<NoteRejectedException>(() => SignedNote.Open(tampered, Trusted));
            Assert.Equal(NoteRejection.InvalidSignature, error.Rejection);
        }
    }

    [Fact]
    public void A_changed_signature_is_refused_as_invalid()
    {
        var signature = SignedNote.Parse(Encoding.UTF8.GetBytes(Note)).Signatures[0];
        var raw = Convert.FromBase64String(signature.Base64);
        raw[^1] ^= 0x01;

        var error = Rejected(Text + "\n" + (signature with { Base64 = Convert.ToBase64String(raw) }).ToLine());

        Assert.Equal(NoteRejection.InvalidSignature, error.Rejection);
        Assert.Contains(Signer.Name, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_signature_under_another_key_name_is_not_the_trusted_keys_and_leaves_the_note_unsigned()
    {
        var error = Rejected(Note.Replace("— meteragent.example/log ", "— meteragent.example/other ", StringComparison.Ordinal));

        Assert.Equal(NoteRejection.NoTrustedSignature, error.Rejection);
    }

    [Fact]
    public void A_signature_with_the_trusted_name_but_another_key_ID_is_ignored_not_checked()
    {
        var signature = SignedNote.Parse(Encoding.UTF8.GetBytes(Note)).Signatures[0];
        var raw = Convert.FromBase64String(signature.Base64);
        raw[0] ^= 0x80;

        var error = Rejected(Text + "\n" + (signature with { Base64 = Convert.ToBase64String(raw) }).ToLine());

        Assert.Equal(NoteRejection.NoTrustedSignature, error.Rejection);
    }

    [Fact]
    public void A_truncated_signature_line_is_malformed()
    {
        var cut = Note[..(Note.Length - 10)] + "\n";

        var error = Rejected(cut);

        Assert.Equal(NoteRejection.Malformed, error.Rejection);
        Assert.Contains("base64", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_signature_shortened_by_whole_base64_quanta_is_an_invalid_signature()
    {
        // Still well-formed base64, so the parser accepts it; the trusted key's check must then fail it.
        var signature = SignedNote.Parse(Encoding.UTF8.GetBytes(Note)).Signatures[0];
        var shortened = signature with { Base64 = Convert.ToBase64String(Convert.FromBase64String(signature.Base64)[..60]) };

        var error = Rejected(Text + "\n" + shortened.ToLine());

        Assert.Equal(NoteRejection.InvalidSignature, error.Rejection);
    }

    [Fact]
    public void A_missing_final_newline_is_malformed()
    {
        Assert.Equal(NoteRejection.Malformed, Rejected(Note[..^1]).Rejection);
    }

    [Fact]
    public void A_missing_blank_line_is_malformed()
    {
        var error = Rejected(Note.Replace("\n\n", "\n", StringComparison.Ordinal));

        Assert.Equal(NoteRejection.Malformed, error.Rejection);
        Assert.Contains("blank line", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_hyphen_instead_of_the_em_dash_is_malformed()
    {
        var error = Rejected(Note.Replace("— ", "- ", StringComparison.Ordinal));

        Assert.Equal(NoteRejection.Malformed, error.Rejection);
        Assert.Contains("em dash", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_carriage_return_is_malformed()
    {
        Assert.Equal(NoteRejection.Malformed, Rejected(Note.Replace("\n", "\r\n", StringComparison.Ordinal)).Rejection);
    }

    [Fact]
    public void A_forged_second_copy_of_a_trusted_signature_is_checked_too()
    {
        var signature = SignedNote.Parse(Encoding.UTF8.GetBytes(Note)).Signatures[0];
        var raw = Convert.FromBase64String(signature.Base64);
        raw[10] ^= 0x01;
        var forged = (signature with { Base64 = Convert.ToBase64String(raw) }).ToLine();

        Assert.Equal(NoteRejection.InvalidSignature, Rejected(Note + forged).Rejection);
    }

    [Fact]
    public void A_text_with_blank_lines_of_its_own_signs_and_opens()
    {
        const string text = "first\n\nsecond\n";

        var opened = SignedNote.Open(SignedNote.Sign(text, Signer).Encode(), Trusted);

        Assert.Equal(text, opened.Text);
    }

    [Theory]
    [InlineData("")]
    [InlineData("no final newline")]
    [InlineData("tab\there\n")]
    public void Signing_refuses_a_text_that_could_not_be_a_note(string text)
    {
        Assert.Throws<ArgumentException>(() => SignedNote.Sign(text, Signer));
    }

    [Fact]
    public void Signing_refuses_a_text_with_a_lone_surrogate()
    {
        // Built at run time: an attribute argument is stored as UTF-8, which would turn the surrogate into U+FFFD.
        var text = "lone " + (char)0xD800 + " surrogate\n";

        Assert.Throws<ArgumentException>(() => SignedNote.Sign(text, Signer));
    }
}
