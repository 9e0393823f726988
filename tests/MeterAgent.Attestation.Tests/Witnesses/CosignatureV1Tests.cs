using System.Security.Cryptography;
using System.Text;
using MeterAgent.Attestation.Checkpoints;
using MeterAgent.Attestation.Notes;
using MeterAgent.Attestation.Witnesses;

namespace MeterAgent.Attestation.Tests.Witnesses;

/// <summary>
/// Cosignatures (c2sp.org/tlog-cosignature, Ed25519, type 0x04). The known answer was computed from the spec with
/// OpenSSL's Ed25519 and Python's hashlib, not by this code; it is the worked example of docs/attestation.md.
/// </summary>
public sealed class CosignatureV1Tests
{
    internal const string WitnessName = "witness.example/w1";
    internal const string WitnessSignerKey = "PRIVATE+KEY+witness.example/w1+e75f6532+BAABAgMEBQYHCAkKCwwNDg8QERITFBUWFxgZGhscHR4f";
    internal const string WitnessVerifierKey = "witness.example/w1+e75f6532+BAOhB7/zzhC+HXDdGOdLwJln5NYwm6UNXx3chmQSVTG4";

    private const string Body =
        "meteragent.example/log\n" +
        "1\n" +
        "VKbcG/yZDO0/V1cmTzV61wip7lTOPRFymWQbI09tWAA=\n";

    private const long Timestamp = 1_700_000_000;

    private const string Line =
        "— witness.example/w1 519lMgAAAABlU/EAruYG1mhW2mSvARwfosZFSZhAoCOzY3V8U1O1IPquD2DTQYJEZ8XzH9mRTkDX4Dn+nQhGS8z0YpaeS0xi+RPUBQ==\n";

    private const string LogSignerKey = "PRIVATE+KEY+meteragent.example/log+e52e06da+AQABAgMEBQYHCAkKCwwNDg8QERITFBUWFxgZGhscHR4f";

    private static byte[] Seed => [.. Enumerable.Range(0, 32).Select(i => (byte)i)];

    [Fact]
    public void The_seed_gives_the_documented_witness_keys_with_signature_type_4()
    {
        var signer = NoteSigner.FromSeed(WitnessName, Seed, NoteKeyId.CosignatureV1SignatureType);

        Assert.Equal(WitnessSignerKey, signer.SignerKey);
        Assert.Equal(WitnessVerifierKey, signer.Verifier.VerifierKey);
        var publicKey = signer.Verifier.PublicKey.ToArray();
        var expectedId = SHA256.HashData([.. Encoding.UTF8.GetBytes(WitnessName), 0x0a, 0x04, .. publicKey]);
        Assert.Equal(Convert.ToHexStringLower(expectedId[..4]), NoteKeyId.Format(signer.KeyId));
        Assert.Equal(WitnessVerifierKey, CosignatureV1.ParseVerifier(WitnessVerifierKey).VerifierKey);
        Assert.Equal(WitnessVerifierKey, CosignatureV1.ParseSigner(WitnessSignerKey).Verifier.VerifierKey);
    }

    [Fact]
    public void The_signed_message_is_the_header_the_time_and_the_checkpoint()
    {
        Assert.Equal("cosignature/v1\ntime 1700000000\n" + Body, Encoding.UTF8.GetString(CosignatureV1.Message(Body, Timestamp)));
    }

    [Fact]
    public void Signing_gives_the_documented_line_and_it_verifies_with_its_timestamp()
    {
        var signature = CosignatureV1.Sign(CosignatureV1.ParseSigner(WitnessSignerKey), Body, Timestamp);

        Assert.Equal(Line, signature.ToLine());
        var check = CosignatureV1.Verify(CosignatureV1.ParseVerifier(WitnessVerifierKey), Body, signature, out var timestamp);
        Assert.Equal(CosignatureCheck.Valid, check);
        Assert.Equal(Timestamp, timestamp);
        Assert.Equal(new DateTimeOffset(2023, 11, 14, 22, 13, 20, TimeSpan.Zero), DateTimeOffset.FromUnixTimeSeconds(timestamp));
    }

    [Fact]
    public void A_cosignature_over_another_text_or_time_does_not_verify()
    {
        var witness = CosignatureV1.ParseVerifier(WitnessVerifierKey);
        var signature = CosignatureV1.ParseLines(Body, Encoding.UTF8.GetBytes(Line))[0];
        var blob = Convert.FromBase64String(signature.Base64);
        blob[11] ^= 1; // the timestamp's last byte
        var retimed = signature with { Base64 = Convert.ToBase64String(blob) };

        Assert.Equal(CosignatureCheck.BadSignature, CosignatureV1.Verify(witness, Body.Replace("\n1\n", "\n2\n", StringComparison.Ordinal), signature, out _));
        Assert.Equal(CosignatureCheck.BadSignature, CosignatureV1.Verify(witness, Body, retimed, out _));
        Assert.Equal(CosignatureCheck.WrongLength, CosignatureV1.Verify(witness, Body, signature with { Base64 = Convert.ToBase64String(blob[..^1]) }, out _));
    }

    [Fact]
    public void Key_types_do_not_mix()
    {
        var logKey = NoteSigner.Parse(LogSignerKey);

        // A witness key where a log key belongs, and the reverse, are refused when read.
        Assert.Contains("only Ed25519 (0x01)", Assert.Throws<FormatException>(() => NoteVerifier.Parse(WitnessVerifierKey)).Message, StringComparison.Ordinal);
        Assert.Contains("only Ed25519 (0x01)", Assert.Throws<FormatException>(() => NoteSigner.Parse(WitnessSignerKey)).Message, StringComparison.Ordinal);
        Assert.Contains("0x04", Assert.Throws<FormatException>(() => CosignatureV1.ParseVerifier(logKey.Verifier.VerifierKey)).Message, StringComparison.Ordinal);
        Assert.Throws<FormatException>(() => CosignatureV1.ParseSigner(LogSignerKey));

        // A cosigner never signs a plain note, and a note key never cosigns.
        Assert.Throws<ArgumentException>(() => SignedNote.Sign(Body, CosignatureV1.ParseSigner(WitnessSignerKey)));
        Assert.Throws<ArgumentException>(() => CosignatureV1.Sign(logKey, Body, Timestamp));
        Assert.Throws<ArgumentOutOfRangeException>(() => CosignatureV1.Sign(CosignatureV1.ParseSigner(WitnessSignerKey), Body, 0));
    }

    [Fact]
    public void A_cosigned_note_opens_with_the_log_key_and_its_cosignature_counts_once_verified()
    {
        var logKey = NoteSigner.Parse(LogSignerKey);
        var witness = CosignatureV1.ParseVerifier(WitnessVerifierKey);
        var note = SignedNote.Sign(Body, logKey).ToString() + Line;

        // Signed-note verification with both keys checks the log's and leaves the cosignature to CosignatureV1.
        var opened = SignedNote.Open(Encoding.UTF8.GetBytes(note), new NoteVerifiers(logKey.Verifier, witness));
        Assert.Equal("meteragent.example/log", Assert.Single(opened.VerifiedSignatures).Name);
        Assert.Equal(WitnessName, Assert.Single(opened.OtherSignatures).Name);

        var cosignature = Assert.Single(CosignatureV1.VerifyAll(SignedNote.Parse(Encoding.UTF8.GetBytes(note)), new NoteVerifiers(witness)));
        Assert.Equal(Timestamp, cosignature.Timestamp);
        Assert.Equal(1, Checkpoint.Parse(opened.Text).TreeSize);
    }

    [Fact]
    public void A_trusted_witness_line_that_fails_rejects_the_note_and_unknown_witnesses_are_ignored()
    {
        var logKey = NoteSigner.Parse(LogSignerKey);
        var other = CosignatureV1.GenerateKey("witness.example/w2");
        var otherLine = CosignatureV1.Sign(CosignatureV1.ParseSigner(other.SignerKey), Body, Timestamp).ToLine();
        var tampered = Line.Replace("519lMg", "519lMh", StringComparison.Ordinal);
        var witnesses = new NoteVerifiers(CosignatureV1.ParseVerifier(WitnessVerifierKey));

        var good = SignedNote.Parse(Encoding.UTF8.GetBytes(SignedNote.Sign(Body, logKey) + otherLine + Line));
        var bad = SignedNote.Parse(Encoding.UTF8.GetBytes(SignedNote.Sign(Body, logKey) + otherLine + tampered));

        Assert.Single(CosignatureV1.VerifyAll(good, witnesses));
        Assert.Empty(CosignatureV1.VerifyAll(SignedNote.Parse(Encoding.UTF8.GetBytes(SignedNote.Sign(Body, logKey) + otherLine)), witnesses));
        Assert.Equal(NoteRejection.InvalidSignature, Assert.Throws<NoteRejectedException>(() => CosignatureV1.VerifyAll(bad, witnesses)).Rejection);
    }

    [Fact]
    public void A_witness_answer_is_read_as_signature_lines()
    {
        var lines = CosignatureV1.ParseLines(Body, Encoding.UTF8.GetBytes(Line + Line));

        Assert.Equal(2, lines.Count);
        Assert.Equal(Line + Line, CosignatureV1.FormatLines(lines));
        Assert.Throws<NoteRejectedException>(() => CosignatureV1.ParseLines(Body, "not a signature line\n"u8));
        Assert.Throws<NoteRejectedException>(() => CosignatureV1.ParseLines(Body, Encoding.UTF8.GetBytes(Line.TrimEnd('\n'))));
        Assert.Throws<NoteRejectedException>(() => CosignatureV1.ParseLines(Body, []));
    }
}
