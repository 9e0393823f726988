using System.Text;
using System.Text.Json;
using MeterAgent.Attestation.Statements;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Crypto.Signers;

namespace MeterAgent.Attestation.Tests.Statements;

public sealed class DsseTests
{
    private static readonly Ed25519PrivateKeyParameters Key = new(Enumerable.Range(1, 32).Select(i => (byte)i).ToArray());

    private static byte[] Sign(byte[] message)
    {
        var signer = new Ed25519Signer();
        signer.Init(true, Key);
        signer.BlockUpdate(message, 0, message.Length);
        return signer.GenerateSignature();
    }

    private static bool Verify(byte[] message, byte[] signature)
    {
        var verifier = new Ed25519Signer();
        verifier.Init(false, Key.GeneratePublicKey());
        verifier.BlockUpdate(message, 0, message.Length);
        return verifier.VerifySignature(signature);
    }

    [Fact]
    public void The_pre_authentication_encoding_is_the_specs_own_example()
    {
        // secure-systems-lab/dsse, protocol.md: PAE("http://example.com/HelloWorld", "hello world").
        Assert.Equal(
            "DSSEv1 29 http://example.com/HelloWorld 11 hello world",
            Encoding.UTF8.GetString(Dsse.PreAuthenticationEncoding("http://example.com/HelloWorld", "hello world"u8)));
    }

    [Fact]
    public void A_signed_envelope_opens_with_its_key_and_carries_the_payload_in_base64()
    {
        var envelope = Dsse.Sign(Dsse.InTotoPayloadType, "{\"a\":1}"u8, "k1", Sign);

        var json = JsonDocument.Parse(envelope).RootElement;
        Assert.Equal(Dsse.InTotoPayloadType, json.GetProperty("payloadType").GetString());
        Assert.Equal("eyJhIjoxfQ==", json.GetProperty("payload").GetString());
        var (payload, failure) = Dsse.Open(envelope, Dsse.InTotoPayloadType, "k1", Verify);
        Assert.Null(failure);
        Assert.Equal("{\"a\":1}"u8.ToArray(), payload);
    }

    [Fact]
    public void A_changed_payload_type_key_or_signature_does_not_open()
    {
        var envelope = Encoding.UTF8.GetString(Dsse.Sign(Dsse.InTotoPayloadType, "{\"a\":1}"u8, "k1", Sign));

        // The payload changed after signing (the JSON itself stays valid).
        var tampered = envelope.Replace("eyJhIjoxfQ==", "eyJhIjoyfQ==", StringComparison.Ordinal);
        Assert.Equal("no valid signature by key 'k1'", Dsse.Open(Encoding.UTF8.GetBytes(tampered), Dsse.InTotoPayloadType, "k1", Verify).Failure);
        Assert.Equal("no valid signature by key 'k2'", Dsse.Open(Encoding.UTF8.GetBytes(envelope), Dsse.InTotoPayloadType, "k2", Verify).Failure);
        Assert.StartsWith("payload type", Dsse.Open(Encoding.UTF8.GetBytes(envelope), "text/plain", "k1", Verify).Failure, StringComparison.Ordinal);
        Assert.StartsWith("not a DSSE envelope", Dsse.Open("[1,2]"u8, Dsse.InTotoPayloadType, "k1", Verify).Failure, StringComparison.Ordinal);
        Assert.StartsWith("not a DSSE envelope", Dsse.Open("{"u8, Dsse.InTotoPayloadType, "k1", Verify).Failure, StringComparison.Ordinal);
    }
}
