using MeterAgent.Attestation.Notes;

namespace MeterAgent.Attestation.Tests.Notes;

public sealed class NoteKeyTests
{
    [Fact]
    public void A_generated_pair_parses_back_into_matching_signer_and_verifier()
    {
        var pair = NoteKeyPair.Generate("meteragent.example/log");

        var signer = NoteSigner.Parse(pair.SignerKey);
        var verifier = NoteVerifier.Parse(pair.VerifierKey);

        Assert.StartsWith("PRIVATE+KEY+meteragent.example/log+", pair.SignerKey, StringComparison.Ordinal);
        Assert.Equal(pair.VerifierKey, signer.Verifier.VerifierKey);
        Assert.Equal(signer.KeyId, verifier.KeyId);
        var message = "hi"u8.ToArray();
        Assert.True(verifier.Verify(message, signer.Sign(message)));
        Assert.False(verifier.Verify("ho"u8, signer.Sign(message)));
    }

    [Fact]
    public void Two_generated_keys_differ()
    {
        Assert.NotEqual(NoteKeyPair.Generate("a").VerifierKey, NoteKeyPair.Generate("a").VerifierKey);
    }

    [Fact]
    public void Printing_a_signer_or_a_pair_never_shows_the_private_key()
    {
        var pair = NoteKeyPair.Generate("meteragent.example/log");
        // PRIVATE+KEY+name+hash+base64: the base64 itself may hold '+', so the secret is everything after the fourth.
        var secret = string.Join('+', pair.SignerKey.Split('+')[4..]);

        Assert.DoesNotContain(secret, pair.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain(secret, NoteSigner.Parse(pair.SignerKey).ToString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("")]
    [InlineData("a b")]
    [InlineData("a+b")]
    [InlineData("a\u00a0b")]
    [InlineData("a\u3000b")]
    public void Invalid_key_names_are_refused(string name)
    {
        Assert.Throws<ArgumentException>(() => NoteKeyPair.Generate(name));
    }

    [Theory]
    [InlineData("PeterNeumann", "fewer than three parts")]
    [InlineData("PeterNeumann+c74f20a3", "fewer than three parts")]
    [InlineData("+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "name")]
    [InlineData("PeterNeumann+c74f20a+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "eight hex digits")]
    [InlineData("PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "does not match")]
    [InlineData("PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10T", "base64")]
    [InlineData("PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4 izWy10TW", "base64")]
    public void A_bad_verifier_key_says_what_is_wrong(string vkey, string expected)
    {
        var error = Assert.Throws<FormatException>(() => NoteVerifier.Parse(vkey));

        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_verifier_key_passed_as_a_signer_key_is_refused_for_its_missing_prefix()
    {
        var error = Assert.Throws<FormatException>(() => NoteSigner.Parse(GoNoteVectorTests.PeterVerifierKey));

        Assert.Contains("PRIVATE+KEY+", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_same_key_given_twice_is_trusted_once()
    {
        var a = NoteVerifier.FromPublicKey("x", NoteSigner.FromSeed("x", new byte[32]).Verifier.PublicKey);

        Assert.Equal(1, new NoteVerifiers(a, NoteVerifier.Parse(a.VerifierKey)).Count);
    }
}
