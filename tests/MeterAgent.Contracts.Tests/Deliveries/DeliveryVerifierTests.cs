using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using MeterAgent.Contracts.Deliveries;
using MeterAgent.Contracts.Specs;
using Microsoft.IdentityModel.Tokens;

namespace MeterAgent.Contracts.Tests.Deliveries;

public sealed class DeliveryVerifierTests : IDisposable
{
    private const string Kid = "clearing-2026";

    private static readonly DateTimeOffset Now = new(2026, 11, 1, 12, 0, 0, TimeSpan.Zero);

    private static readonly ContractCatalog Catalog = new(
    [
        new ContractSpec
        {
            Id = "o200k-std-2026q4",
            Version = 1,
            EligibleModels = ["gpt-4o*"],
            Basis = UnitBasis.Reference,
            Weights = new TokenWeights(1, 0.1m, 1.25m, 4, 4),
            DeliveryStart = new DateTimeOffset(2026, 10, 1, 0, 0, 0, TimeSpan.Zero),
            DeliveryEnd = new DateTimeOffset(2027, 1, 1, 0, 0, 0, TimeSpan.Zero),
            SettlementInterval = TimeSpan.FromMinutes(15),
        },
    ]);

    private static readonly DeliveryNoticeClaims Claims = new(
        DeliveryId: "dlv-0001",
        ContractId: "o200k-std-2026q4",
        ContractVersion: 1,
        AccountId: "acme",
        Quantity: 1250.5m,
        WindowStart: new DateTimeOffset(2026, 10, 1, 0, 0, 0, TimeSpan.Zero),
        WindowEnd: new DateTimeOffset(2026, 12, 1, 0, 0, 0, TimeSpan.Zero),
        IssuedAt: new DateTimeOffset(2026, 9, 30, 18, 0, 0, TimeSpan.Zero));

    private readonly DeliverySigner _signer;
    private readonly DeliveryVerifier _verifier;

    public DeliveryVerifierTests()
    {
        (_signer, var keys) = DeliverySigner.CreateNew(Kid);
        _verifier = new DeliveryVerifier(keys);
    }

    public void Dispose() => _signer.Dispose();

    [Fact]
    public void A_valid_notice_verifies()
    {
        var jws = _signer.Sign(Claims);

        var result = _verifier.Verify(jws, Catalog, Now);

        Assert.True(result.IsValid, result.Message);
        Assert.Null(result.ErrorCode);
        var notice = result.Notice!;
        Assert.Equal("dlv-0001", notice.DeliveryId);
        Assert.Equal("o200k-std-2026q4", notice.ContractId);
        Assert.Equal(1, notice.ContractVersion);
        Assert.Equal("acme", notice.AccountId);
        Assert.Equal(1_250_500_000, notice.QuantityMicro);
        Assert.Equal(Claims.WindowStart, notice.WindowStart);
        Assert.Equal(Claims.WindowEnd, notice.WindowEnd);
        Assert.Equal(Claims.IssuedAt, notice.IssuedAt);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(PayloadBytes(jws))), notice.PayloadSha256);
    }

    [Fact]
    public void The_header_names_alg_kid_and_typ()
    {
        var header = Encoding.UTF8.GetString(Base64Url.DecodeFromChars(_signer.Sign(Claims).Split('.')[0]));

        Assert.Equal("""{"alg":"ES256","kid":"clearing-2026","typ":"meteragent-delivery+jwt"}""", header);
    }

    [Theory]
    [InlineData("\"12.5\"", 12_500_000L)]
    [InlineData("12.5", 12_500_000L)]
    [InlineData("7", 7_000_000L)]
    [InlineData("\"0.000001\"", 1L)]
    [InlineData("\"3.100000000\"", 3_100_000L)]
    [InlineData("\"9007199254.740991\"", 9007199254740991)] // the largest delivery: 2^53 - 1 micro-units, exact in every store
    public void Quantity_may_be_a_string_or_a_number(string quantity, long micro)
    {
        var result = _verifier.Verify(_signer.SignPayload(Payload(quantity: quantity)), Catalog, Now);

        Assert.True(result.IsValid, result.Message);
        Assert.Equal(micro, result.Notice!.QuantityMicro);
    }

    [Fact]
    public void Unknown_claims_are_ignored()
    {
        var payload = Payload().Replace("{", "{\"iss\":\"clearing.example\",\"jti\":\"x\",", StringComparison.Ordinal);

        Assert.True(_verifier.Verify(_signer.SignPayload(payload), Catalog, Now).IsValid);
    }

    [Fact]
    public void The_full_media_type_is_accepted_as_typ()
    {
        var jws = SignWithHeader(_signer, """{"alg":"ES256","kid":"clearing-2026","typ":"application/MeterAgent-Delivery+JWT"}""", Payload());

        Assert.True(_verifier.Verify(jws, Catalog, Now).IsValid);
    }

    [Fact]
    public void A_tampered_payload_fails_the_signature()
    {
        var parts = _signer.Sign(Claims).Split('.');
        var payload = Encoding.UTF8.GetString(Base64Url.DecodeFromChars(parts[1]));
        var forged = payload.Replace("\"1250.5\"", "\"9250.5\"", StringComparison.Ordinal);
        Assert.NotEqual(payload, forged);

        var result = _verifier.Verify($"{parts[0]}.{Base64Url.EncodeToString(Encoding.UTF8.GetBytes(forged))}.{parts[2]}", Catalog, Now);

        AssertFails(result, DeliveryErrorCodes.BadSignature);
    }

    [Fact]
    public void Flipping_one_byte_of_the_payload_fails_the_signature()
    {
        var parts = _signer.Sign(Claims).Split('.');
        var bytes = Base64Url.DecodeFromChars(parts[1]);
        bytes[bytes.Length / 2] ^= 0x01;

        var result = _verifier.Verify($"{parts[0]}.{Base64Url.EncodeToString(bytes)}.{parts[2]}", Catalog, Now);

        AssertFails(result, DeliveryErrorCodes.BadSignature);
    }

    [Fact]
    public void A_tampered_signature_fails()
    {
        var parts = _signer.Sign(Claims).Split('.');
        var signature = Base64Url.DecodeFromChars(parts[2]);
        signature[5] ^= 0x80;

        AssertFails(_verifier.Verify($"{parts[0]}.{parts[1]}.{Base64Url.EncodeToString(signature)}", Catalog, Now), DeliveryErrorCodes.BadSignature);
        AssertFails(_verifier.Verify($"{parts[0]}.{parts[1]}.{Base64Url.EncodeToString(signature[..40])}", Catalog, Now), DeliveryErrorCodes.BadSignature);
        AssertFails(_verifier.Verify($"{parts[0]}.{parts[1]}.", Catalog, Now), DeliveryErrorCodes.BadSignature);
    }

    [Fact]
    public void A_notice_signed_by_an_untrusted_key_with_the_trusted_kid_fails_the_signature()
    {
        var (impostor, _) = DeliverySigner.CreateNew(Kid);
        using (impostor)
        {
            AssertFails(_verifier.Verify(impostor.Sign(Claims), Catalog, Now), DeliveryErrorCodes.BadSignature);
        }
    }

    [Fact]
    public void An_unknown_kid_is_refused()
    {
        var (other, _) = DeliverySigner.CreateNew("someone-else");
        using (other)
        {
            var result = _verifier.Verify(other.Sign(Claims), Catalog, Now);

            AssertFails(result, DeliveryErrorCodes.UnknownKey);
            Assert.Contains("someone-else", result.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Sender_text_in_messages_is_shortened_and_stripped_of_control_characters()
    {
        var kid = "forged\nINFO admin logged in " + new string('x', 500);
        var result = _verifier.Verify(SignWithHeader(_signer, $$"""{"alg":"ES256","kid":"{{kid.Replace("\n", "\\n", StringComparison.Ordinal)}}","typ":"meteragent-delivery+jwt"}""", Payload()), Catalog, Now);

        AssertFails(result, DeliveryErrorCodes.UnknownKey);
        Assert.DoesNotContain('\n', result.Message!);
        Assert.Contains("'forged?INFO admin", result.Message, StringComparison.Ordinal);
        Assert.True(result.Message!.Length < 200, result.Message);
    }

    [Fact]
    public void A_missing_kid_is_an_unknown_key()
    {
        AssertFails(_verifier.Verify(SignWithHeader(_signer, """{"alg":"ES256","typ":"meteragent-delivery+jwt"}""", Payload()), Catalog, Now), DeliveryErrorCodes.UnknownKey);
    }

    [Fact]
    public void A_verifier_with_no_keys_refuses_everything()
    {
        var empty = new DeliveryVerifier(new JsonWebKeySet());

        AssertFails(empty.Verify(_signer.Sign(Claims), Catalog, Now), DeliveryErrorCodes.UnknownKey);
    }

    [Fact]
    public void Alg_none_is_refused()
    {
        var jws = $"{B64("""{"alg":"none","kid":"clearing-2026","typ":"meteragent-delivery+jwt"}""")}.{B64(Payload())}.";

        AssertFails(_verifier.Verify(jws, Catalog, Now), DeliveryErrorCodes.UnsupportedAlg);
    }

    [Fact]
    public void Hs256_keyed_with_the_public_key_is_refused()
    {
        // The classic confusion attack: an HMAC "signed" with the verifier's public key bytes.
        var signingInput = $"{B64("""{"alg":"HS256","kid":"clearing-2026","typ":"meteragent-delivery+jwt"}""")}.{B64(Payload())}";
        var mac = HMACSHA256.HashData(Encoding.UTF8.GetBytes(_signer.PublicJwksJson), Encoding.ASCII.GetBytes(signingInput));

        AssertFails(_verifier.Verify($"{signingInput}.{Base64Url.EncodeToString(mac)}", Catalog, Now), DeliveryErrorCodes.UnsupportedAlg);
    }

    [Theory]
    [InlineData("RS256")]
    [InlineData("ES384")]
    [InlineData("PS256")]
    [InlineData("es256")]
    public void Other_algorithms_are_refused(string alg)
    {
        var jws = SignWithHeader(_signer, $$"""{"alg":"{{alg}}","kid":"clearing-2026","typ":"meteragent-delivery+jwt"}""", Payload());

        AssertFails(_verifier.Verify(jws, Catalog, Now), DeliveryErrorCodes.UnsupportedAlg);
    }

    [Theory]
    [InlineData("""{"alg":"ES256","kid":"clearing-2026"}""")]
    [InlineData("""{"alg":"ES256","kid":"clearing-2026","typ":"JWT"}""")]
    [InlineData("""{"alg":"ES256","kid":"clearing-2026","typ":"meteragent-delivery+jwt","crit":["exp"],"exp":1}""")]
    [InlineData("""{"kid":"clearing-2026","typ":"meteragent-delivery+jwt"}""")]
    [InlineData("""{"alg":"ES256","alg":"none","kid":"clearing-2026","typ":"meteragent-delivery+jwt"}""")]
    [InlineData("""{"alg":256,"kid":"clearing-2026","typ":"meteragent-delivery+jwt"}""")]
    [InlineData("""["ES256"]""")]
    public void A_header_of_the_wrong_shape_is_malformed(string header)
    {
        AssertFails(_verifier.Verify(SignWithHeader(_signer, header, Payload()), Catalog, Now), DeliveryErrorCodes.Malformed);
    }

    [Theory]
    [InlineData("")]
    [InlineData("not a jws")]
    [InlineData("a.b")]
    [InlineData("a.b.c.d.e")]
    [InlineData("!!!.e30.e30")]
    [InlineData(".e30.e30")]
    public void Something_that_is_not_a_compact_jws_is_malformed(string jws)
    {
        AssertFails(_verifier.Verify(jws, Catalog, Now), DeliveryErrorCodes.Malformed);
    }

    [Fact]
    public void An_oversized_notice_is_malformed()
    {
        AssertFails(_verifier.Verify(new string('a', DeliveryFormat.MaxCompactLength + 1), Catalog, Now), DeliveryErrorCodes.Malformed);
    }

    [Fact]
    public void A_payload_segment_that_is_not_base64url_is_malformed()
    {
        var parts = _signer.Sign(Claims).Split('.');

        AssertFails(_verifier.Verify($"{parts[0]}.{parts[1]}*.{parts[2]}", Catalog, Now), DeliveryErrorCodes.Malformed);
    }

    [Theory]
    [InlineData("not json")]
    [InlineData("[]")]
    [InlineData("""{"delivery_id":"d","contract_id":"o200k-std-2026q4","contract_version":1,"account_id":"acme","quantity":"1","window_start":"2026-10-01T00:00:00Z","window_end":"2026-12-01T00:00:00Z"}""")]
    [InlineData("""{"contract_id":"o200k-std-2026q4","contract_version":1,"account_id":"acme","quantity":"1","window_start":"2026-10-01T00:00:00Z","window_end":"2026-12-01T00:00:00Z","iat":1}""")]
    [InlineData("""{"delivery_id":"","contract_id":"o200k-std-2026q4","contract_version":1,"account_id":"acme","quantity":"1","window_start":"2026-10-01T00:00:00Z","window_end":"2026-12-01T00:00:00Z","iat":1}""")]
    [InlineData("""{"delivery_id":"d","contract_id":"o200k-std-2026q4","contract_version":"1","account_id":"acme","quantity":"1","window_start":"2026-10-01T00:00:00Z","window_end":"2026-12-01T00:00:00Z","iat":1}""")]
    [InlineData("""{"delivery_id":"d","contract_id":"o200k-std-2026q4","contract_version":1,"quantity":"1","window_start":"2026-10-01T00:00:00Z","window_end":"2026-12-01T00:00:00Z","iat":1}""")]
    [InlineData("""{"delivery_id":"d","contract_id":"o200k-std-2026q4","contract_version":1,"account_id":"acme","window_start":"2026-10-01T00:00:00Z","window_end":"2026-12-01T00:00:00Z","iat":1}""")]
    [InlineData("""{"delivery_id":"d","contract_id":"o200k-std-2026q4","contract_version":1,"account_id":"acme","quantity":"1","window_start":"2026-10-01","window_end":"2026-12-01T00:00:00Z","iat":1}""")]
    [InlineData("""{"delivery_id":"d","contract_id":"o200k-std-2026q4","contract_version":1,"account_id":"acme","quantity":"1","window_start":"2026-10-01T00:00:00Z","window_end":"2026-12-01T00:00:00Z","iat":1.5}""")]
    [InlineData("""{"delivery_id":"d","contract_id":"o200k-std-2026q4","contract_version":1,"account_id":"acme","quantity":"1","quantity":"1000","window_start":"2026-10-01T00:00:00Z","window_end":"2026-12-01T00:00:00Z","iat":1}""")]
    [InlineData("""{"delivery_id":"d","contract_id":"o200k-std-2026q4","contract_version":1,"account_id":"acme","quantity":true,"window_start":"2026-10-01T00:00:00Z","window_end":"2026-12-01T00:00:00Z","iat":1}""")]
    public void A_signed_payload_of_the_wrong_shape_is_malformed(string payload)
    {
        AssertFails(_verifier.Verify(_signer.SignPayload(payload), Catalog, Now), DeliveryErrorCodes.Malformed);
    }

    [Fact]
    public void A_delivery_id_longer_than_128_characters_is_malformed()
    {
        AssertFails(_verifier.Verify(_signer.Sign(Claims with { DeliveryId = new string('d', 129) }), Catalog, Now), DeliveryErrorCodes.Malformed);
        Assert.True(_verifier.Verify(_signer.Sign(Claims with { DeliveryId = new string('d', 128) }), Catalog, Now).IsValid);
    }

    [Fact]
    public void An_unknown_contract_is_refused()
    {
        AssertFails(_verifier.Verify(_signer.Sign(Claims with { ContractId = "o200k-std-2027q1" }), Catalog, Now), DeliveryErrorCodes.UnknownContract);
        AssertFails(_verifier.Verify(_signer.Sign(Claims with { ContractVersion = 2 }), Catalog, Now), DeliveryErrorCodes.UnknownContract);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("-5")]
    [InlineData("1.1234567")]
    [InlineData("0.0000001")]
    public void An_invalid_quantity_is_refused(string quantity)
    {
        var claims = Claims with { Quantity = decimal.Parse(quantity, System.Globalization.CultureInfo.InvariantCulture) };

        AssertFails(_verifier.Verify(_signer.Sign(claims), Catalog, Now), DeliveryErrorCodes.InvalidQuantity);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("-1.5")]
    [InlineData("1.1234567")]
    [InlineData("\"1.1234567\"")]
    [InlineData("\"ten\"")]
    [InlineData("\"1e3\"")]
    [InlineData("\" 1\"")]
    [InlineData("\"1.\"")]
    [InlineData("\".5\"")]
    [InlineData("\"\"")]
    [InlineData("\"99999999999999999999\"")]
    [InlineData("\"9007199254.740992\"")] // one micro-unit above 2^53 - 1: a Lua number in the Redis scripts could not hold it exactly
    [InlineData("1e40")]
    [InlineData("1e3")]
    [InlineData("1.00000000000000000000000000000001")]
    [InlineData("\"1.00000000000000000000000000000001\"")]
    [InlineData("\"+1\"")]
    [InlineData("\"-0\"")]
    public void An_invalid_raw_quantity_is_refused(string quantity)
    {
        AssertFails(_verifier.Verify(_signer.SignPayload(Payload(quantity: quantity)), Catalog, Now), DeliveryErrorCodes.InvalidQuantity);
    }



    [Fact]
    public void A_window_that_ends_before_it_starts_is_refused()
    {
        var claims = Claims with { WindowStart = Claims.WindowEnd, WindowEnd = Claims.WindowStart };

        AssertFails(_verifier.Verify(_signer.Sign(claims), Catalog, Now), DeliveryErrorCodes.InvalidWindow);
        AssertFails(_verifier.Verify(_signer.Sign(Claims with { WindowStart = Claims.WindowEnd }), Catalog, Now), DeliveryErrorCodes.InvalidWindow);
    }

    [Fact]
    public void A_window_outside_the_contract_is_refused()
    {
        var early = Claims with { WindowStart = new DateTimeOffset(2026, 9, 30, 23, 59, 59, TimeSpan.Zero) };
        var late = Claims with { WindowEnd = new DateTimeOffset(2027, 1, 1, 0, 0, 1, TimeSpan.Zero) };
        var whole = Claims with { WindowStart = new DateTimeOffset(2026, 10, 1, 0, 0, 0, TimeSpan.Zero), WindowEnd = new DateTimeOffset(2027, 1, 1, 0, 0, 0, TimeSpan.Zero) };

        AssertFails(_verifier.Verify(_signer.Sign(early), Catalog, Now), DeliveryErrorCodes.InvalidWindow);
        AssertFails(_verifier.Verify(_signer.Sign(late), Catalog, Now), DeliveryErrorCodes.InvalidWindow);
        Assert.True(_verifier.Verify(_signer.Sign(whole), Catalog, Now).IsValid);
    }

    [Fact]
    public void A_window_in_another_offset_is_compared_as_an_instant()
    {
        var shifted = Claims with { WindowStart = new DateTimeOffset(2026, 10, 1, 2, 0, 0, TimeSpan.FromHours(2)) };
        var payload = Payload().Replace("2026-10-01T00:00:00Z", "2026-10-01T02:00:00+02:00", StringComparison.Ordinal);

        var result = _verifier.Verify(_signer.SignPayload(payload), Catalog, Now);

        Assert.True(result.IsValid, result.Message);
        Assert.Equal(shifted.WindowStart, result.Notice!.WindowStart);
    }

    [Fact]
    public void An_expired_window_is_refused()
    {
        AssertFails(_verifier.Verify(_signer.Sign(Claims), Catalog, Claims.WindowEnd), DeliveryErrorCodes.ExpiredWindow);
        AssertFails(_verifier.Verify(_signer.Sign(Claims), Catalog, Claims.WindowEnd.AddDays(1)), DeliveryErrorCodes.ExpiredWindow);
        Assert.True(_verifier.Verify(_signer.Sign(Claims), Catalog, Claims.WindowEnd.AddTicks(-1)).IsValid);
    }

    [Fact]
    public void A_window_that_has_not_started_yet_is_accepted()
    {
        var now = Claims.WindowStart.AddDays(-10);

        // Issued before "now": a notice issued after the clock's now is refused as not yet valid.
        Assert.True(_verifier.Verify(_signer.Sign(Claims with { IssuedAt = now.AddDays(-1) }), Catalog, now).IsValid);
    }

    [Fact]
    public void A_replay_has_the_same_payload_digest()
    {
        var first = _signer.Sign(Claims);
        var resigned = _signer.Sign(Claims);

        // ECDSA signatures are randomized: the same payload signed twice gives two JWS strings but one digest, the
        // SHA-256 of the payload bytes as signed (computed here from the JWS itself, not by the verifier).
        Assert.NotEqual(first, resigned);
        Assert.Equal(first.Split('.')[1], resigned.Split('.')[1]);
        var expected = Convert.ToHexStringLower(SHA256.HashData(Base64Url.DecodeFromChars(first.Split('.')[1])));
        Assert.Equal(expected, _verifier.Verify(first, Catalog, Now).Notice!.PayloadSha256);
        Assert.Equal(expected, _verifier.Verify(resigned, Catalog, Now).Notice!.PayloadSha256);
    }

    [Fact]
    public void A_different_payload_under_the_same_delivery_id_has_a_different_digest()
    {
        var original = _verifier.Verify(_signer.Sign(Claims), Catalog, Now).Notice!;
        var reused = _verifier.Verify(_signer.Sign(Claims with { Quantity = 1250.6m }), Catalog, Now).Notice!;

        Assert.Equal(original.DeliveryId, reused.DeliveryId);
        Assert.NotEqual(original.PayloadSha256, reused.PayloadSha256);
        Assert.Matches("^[0-9a-f]{64}$", original.PayloadSha256);
    }

    [Fact]
    public void Several_trusted_keys_are_told_apart_by_kid()
    {
        var (second, secondKeys) = DeliverySigner.CreateNew("clearing-2027");
        using (second)
        {
            var both = new JsonWebKeySet(_signer.PublicJwksJson);
            both.Keys.Add(secondKeys.Keys[0]);
            var verifier = new DeliveryVerifier(both);

            Assert.Equal(["clearing-2026", "clearing-2027"], verifier.KeyIds.Order(StringComparer.Ordinal));
            Assert.True(verifier.Verify(_signer.Sign(Claims), Catalog, Now).IsValid);
            Assert.True(verifier.Verify(second.Sign(Claims), Catalog, Now).IsValid);
        }
    }

    private static void AssertFails(DeliveryVerification result, string code)
    {
        Assert.False(result.IsValid);
        Assert.Null(result.Notice);
        Assert.Equal(code, result.ErrorCode);
        Assert.False(string.IsNullOrWhiteSpace(result.Message));
    }

    private static string Payload(string quantity = "\"1250.5\"") =>
        $$"""{"delivery_id":"dlv-0001","contract_id":"o200k-std-2026q4","contract_version":1,"account_id":"acme","quantity":{{quantity}},"window_start":"2026-10-01T00:00:00Z","window_end":"2026-12-01T00:00:00Z","iat":1790791200}""";

    private static byte[] PayloadBytes(string jws) => Base64Url.DecodeFromChars(jws.Split('.')[1]);

    private static string B64(string text) => Base64Url.EncodeToString(Encoding.UTF8.GetBytes(text));

    /// <summary>A genuine ES256 signature over a header of the test's choosing, so only the header decides the outcome.</summary>
    private static string SignWithHeader(DeliverySigner signer, string header, string payload) => signer.SignWithHeader(header, payload);
}
