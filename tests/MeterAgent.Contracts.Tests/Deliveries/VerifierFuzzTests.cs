using System.Buffers.Text;
using System.Text;
using CsCheck;
using MeterAgent.Contracts.Deliveries;
using MeterAgent.Contracts.Specs;

namespace MeterAgent.Contracts.Tests.Deliveries;

/// <summary>
/// The delivery endpoint is reachable without credentials: whatever arrives, the verifier answers with an error code,
/// never an exception (which would be a 500 and a stack trace in the log), and never accepts a notice someone changed.
/// </summary>
public sealed partial class VerifierFuzzTests : IDisposable
{
    private const string Kid = "clearing-fuzz";

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

    private static readonly string[] KnownCodes =
    [
        DeliveryErrorCodes.Malformed, DeliveryErrorCodes.BadSignature, DeliveryErrorCodes.UnknownKey, DeliveryErrorCodes.UnsupportedAlg,
        DeliveryErrorCodes.UnknownContract, DeliveryErrorCodes.InvalidQuantity, DeliveryErrorCodes.InvalidWindow, DeliveryErrorCodes.ExpiredWindow,
        DeliveryErrorCodes.NotYetValid, DeliveryErrorCodes.Expired, DeliveryErrorCodes.WrongAudience,
    ];

    private const string ValidPayload =
        """{"delivery_id":"dlv-fuzz","contract_id":"o200k-std-2026q4","contract_version":1,"account_id":"acme","quantity":"12.5","window_start":"2026-10-01T00:00:00Z","window_end":"2026-12-01T00:00:00Z","iat":1790791200}""";

    private const string Header = """{"alg":"ES256","kid":"clearing-fuzz","typ":"meteragent-delivery+jwt"}""";

    private readonly DeliverySigner _signer;
    private readonly DeliveryVerifier _verifier;
    private readonly string _valid;

    public VerifierFuzzTests()
    {
        (_signer, var keys) = DeliverySigner.CreateNew(Kid);
        _verifier = new DeliveryVerifier(keys);
        _valid = _signer.SignPayload(ValidPayload);
    }

    public void Dispose() => _signer.Dispose();

    [Fact]
    public void The_unmutated_notice_verifies()
    {
        // Without this the mutation property below could pass with a verifier that refuses everything.
        Assert.True(_verifier.Verify(_valid, Catalog, Now).IsValid);
    }

    [Theory]
    [InlineData("a.b")]
    [InlineData("a.b.c.d")]
    [InlineData("..")]
    [InlineData("...")]
    [InlineData("a..")]
    [InlineData("e30..")]
    [InlineData("e30.e30.e30")]
    [InlineData("e30.e30.")]
    [InlineData("=.=.=")]
    [InlineData("a.b.c")]
    [InlineData("ab+/.cd.ef")]
    [InlineData("YQ==.YQ.YQ")]
    [InlineData("\u00e9\u00e9.e30.e30")]
    [InlineData("\uffff.\ud800.\udfff")]
    [InlineData(" . . ")]
    [InlineData("\0.\0.\0")]
    public void Wrappers_that_are_not_a_compact_jws_are_malformed(string jws)
    {
        var result = _verifier.Verify(jws, Catalog, Now);

        Assert.False(result.IsValid);
        Assert.Equal(DeliveryErrorCodes.Malformed, result.ErrorCode);
    }

    [Theory]
    [InlineData("\"ES256\"", DeliveryErrorCodes.Malformed)]
    [InlineData("42", DeliveryErrorCodes.Malformed)]
    [InlineData("null", DeliveryErrorCodes.Malformed)]
    [InlineData("[]", DeliveryErrorCodes.Malformed)]
    [InlineData("{", DeliveryErrorCodes.Malformed)]
    [InlineData("not json at all", DeliveryErrorCodes.Malformed)]
    [InlineData("{\"alg\":\"ES256\",\"kid\":{\"nested\":1},\"typ\":\"meteragent-delivery+jwt\"}", DeliveryErrorCodes.Malformed)]
    [InlineData("{\"alg\":[\"ES256\"],\"kid\":\"clearing-fuzz\",\"typ\":\"meteragent-delivery+jwt\"}", DeliveryErrorCodes.Malformed)]
    [InlineData("{\"alg\":\"none\",\"kid\":\"clearing-fuzz\",\"typ\":\"meteragent-delivery+jwt\"}", DeliveryErrorCodes.UnsupportedAlg)]
    [InlineData("{\"alg\":\"\",\"kid\":\"clearing-fuzz\",\"typ\":\"meteragent-delivery+jwt\"}", DeliveryErrorCodes.UnsupportedAlg)]
    [InlineData("{\"alg\":\"ES256\",\"kid\":\"clearing-fuzz\",\"kid\":\"other\",\"typ\":\"meteragent-delivery+jwt\"}", DeliveryErrorCodes.Malformed)]
    [InlineData("{\"alg\":\"ES256\",\"kid\":\"\\ud800\",\"typ\":\"meteragent-delivery+jwt\"}", DeliveryErrorCodes.Malformed)]
    [InlineData("{\"alg\":\"ES256\",\"kid\":\"clearing-fuzz\",\"typ\":\"meteragent-delivery+jwt\",\"crit\":null}", DeliveryErrorCodes.Malformed)]
    public void Headers_of_every_shape_give_an_error_code(string header, string code)
    {
        var result = _verifier.Verify(_signer.SignWithHeader(header, ValidPayload), Catalog, Now);

        Assert.False(result.IsValid);
        Assert.Equal(code, result.ErrorCode);
    }

    [Fact]
    public void A_header_that_is_not_utf8_is_malformed()
    {
        var jws = $"{Base64Url.EncodeToString([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d])}.{Base64Url.EncodeToString(Encoding.UTF8.GetBytes(ValidPayload))}.AAAA";

        Assert.Equal(DeliveryErrorCodes.Malformed, _verifier.Verify(jws, Catalog, Now).ErrorCode);
    }

    [Fact]
    public void A_huge_kid_is_an_unknown_key_with_a_short_message()
    {
        var header = $$"""{"alg":"ES256","kid":"{{new string('k', 12_000)}}","typ":"meteragent-delivery+jwt"}""";

        var result = _verifier.Verify(_signer.SignWithHeader(header, "{}"), Catalog, Now);

        Assert.Equal(DeliveryErrorCodes.UnknownKey, result.ErrorCode);
        Assert.True(result.Message!.Length < 200, result.Message);
    }

    [Theory]
    [InlineData("[]")]
    [InlineData("[1,2,3]")]
    [InlineData("\"a string\"")]
    [InlineData("123")]
    [InlineData("null")]
    [InlineData("true")]
    [InlineData("")]
    [InlineData("{")]
    [InlineData("{\"delivery_id\":\"d\",\"contract_version\":99999999999999999999}")]
    [InlineData("{\"contract_version\":1e400}")]
    [InlineData("{\"contract_version\":-2147483649}")]
    [InlineData("{\"iat\":9223372036854775808}")]
    [InlineData("{\"iat\":-9223372036854775809}")]
    [InlineData("{\"iat\":1e30}")]
    [InlineData("{\"exp\":1e30}")]
    [InlineData("{\"exp\":\"tomorrow\"}")]
    [InlineData("{\"exp\":1}")]
    [InlineData("{\"iat\":4102444800}")]
    [InlineData("{\"aud\":42}")]
    [InlineData("{\"aud\":[42]}")]
    [InlineData("{\"aud\":\"someone\"}")]
    [InlineData("{\"quantity\":{\"a\":1}}")]
    [InlineData("{\"delivery_id\":\"a\",\"delivery_id\":\"b\"}")]
    [InlineData("{\"delivery_id\":\"\\ud800\"}")]
    [InlineData("{\"quantity\":\"\\ud800\"}")]
    [InlineData("{\"quantity\":\"1\\udc00\"}")]
    [InlineData("{\"window_start\":\"0001-01-01T00:00:00+01:00\",\"window_end\":\"9999-12-31T23:59:59-01:00\"}")]
    public void Payloads_of_every_shape_give_an_error_code(string payloadOverride)
    {
        // The override's members replace the valid payload's, so each case is otherwise a good notice.
        var payload = payloadOverride.StartsWith('{') && payloadOverride.EndsWith('}') && payloadOverride.Length > 2
            ? MergeInto(ValidPayload, payloadOverride)
            : payloadOverride;

        var result = _verifier.Verify(_signer.SignPayload(payload), Catalog, Now);

        Assert.False(result.IsValid, payload);
        Assert.Contains(result.ErrorCode, KnownCodes);
        Assert.False(string.IsNullOrWhiteSpace(result.Message));
    }

    [Theory]
    [InlineData(10)]
    [InlineData(63)]
    [InlineData(64)]
    [InlineData(65)]
    [InlineData(1000)]
    [InlineData(4000)]
    public void Deeply_nested_json_is_refused_not_thrown(int depth)
    {
        var deep = new string('[', depth) + new string(']', depth);
        var inPayload = ValidPayload.Replace("{\"delivery_id\"", $"{{\"extra\":{deep},\"delivery_id\"", StringComparison.Ordinal);
        var inHeader = Header.Replace("{\"alg\"", $"{{\"extra\":{deep},\"alg\"", StringComparison.Ordinal);

        var payloadResult = _verifier.Verify(_signer.SignPayload(inPayload), Catalog, Now);
        var headerResult = _verifier.Verify(_signer.SignWithHeader(inHeader, ValidPayload), Catalog, Now);

        // Unknown members are ignored (the notice verifies) up to the parser's depth of 64 (the object and 63 arrays);
        // deeper is malformed.
        Assert.Equal(depth <= 63, payloadResult.IsValid);
        Assert.Equal(depth <= 63 ? null : DeliveryErrorCodes.Malformed, payloadResult.ErrorCode);
        Assert.Equal(depth <= 63 ? null : DeliveryErrorCodes.Malformed, headerResult.ErrorCode);
    }

    [Fact]
    public void Random_strings_never_throw_and_never_verify()
    {
        var alphabet = Gen.Char["ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=+/ \"{}\u00e9\0"];
        Gen.String[alphabet, 0, 400].Sample(jws =>
        {
            var result = _verifier.Verify(jws, Catalog, Now);
            return !result.IsValid && Array.IndexOf(KnownCodes, result.ErrorCode) >= 0;
        }, iter: 20_000);
    }

    [Fact]
    public void Mutated_notices_never_throw_and_are_accepted_only_when_the_signed_bytes_are_unchanged()
    {
        var chars = Gen.Char["ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=+/"];
        var edit = Gen.Select(Gen.Int[0, 2], Gen.Int[0, _valid.Length - 1], chars, (kind, at, c) => (Kind: kind, At: at, Char: c));
        edit.Array[1, 4].Sample(edits =>
        {
            var mutated = new StringBuilder(_valid);
            foreach (var (kind, at, c) in edits)
            {
                var position = Math.Min(at, mutated.Length - 1);
                switch (kind)
                {
                    case 0 when mutated.Length > 1: mutated.Remove(position, 1); break;
                    case 1: mutated.Insert(position, c); break;
                    default: mutated[position] = c; break;
                }
            }

            var jws = mutated.ToString();
            var result = _verifier.Verify(jws, Catalog, Now);
            if (!result.IsValid)
            {
                return Array.IndexOf(KnownCodes, result.ErrorCode) >= 0;
            }

            // Base64url's last character can carry unused bits: a change there decodes to the same signature. Anything
            // else accepted would be a forgery.
            return SignedBytesEqual(jws, _valid);
        }, iter: 20_000);
    }

    [Fact]
    public void Payload_bytes_changed_after_signing_are_never_accepted()
    {
        var payload = Encoding.UTF8.GetBytes(ValidPayload);
        var signature = _valid.Split('.')[2];
        var encodedHeader = _valid.Split('.')[0];
        Gen.Select(Gen.Int[0, payload.Length - 1], Gen.Byte, (at, value) => (At: at, Value: value)).Array[1, 3].Sample(flips =>
        {
            var bytes = (byte[])payload.Clone();
            foreach (var (at, value) in flips)
            {
                bytes[at] = value;
            }

            var result = _verifier.Verify($"{encodedHeader}.{Base64Url.EncodeToString(bytes)}.{signature}", Catalog, Now);
            return bytes.AsSpan().SequenceEqual(payload)
                ? result.IsValid
                : !result.IsValid && result.ErrorCode == DeliveryErrorCodes.BadSignature;
        }, iter: 5_000);
    }

    [Fact]
    public void Signed_payloads_of_random_json_never_throw()
    {
        // Genuinely signed, so the claims parser itself is fuzzed, not just the signature check in front of it.
        var scalar = Gen.OneOf(
            Gen.Const("null"), Gen.Const("true"), Gen.Const("\"\""), Gen.Const("\"\\ud800\""), Gen.Const("1e400"), Gen.Const("-0"),
            Gen.Const("9223372036854775808"), Gen.Const("1.5"), Gen.Const("\"12.5\""), Gen.Const("\"2026-10-01T00:00:00Z\""),
            Gen.Long.Select(n => n.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            Gen.String[Gen.Char["abc\\\"\u00e9 "], 0, 8].Select(s => "\"" + s + "\""));
        var name = Gen.OneOf(
            Gen.Const("delivery_id"), Gen.Const("contract_id"), Gen.Const("contract_version"), Gen.Const("account_id"), Gen.Const("quantity"),
            Gen.Const("window_start"), Gen.Const("window_end"), Gen.Const("iat"), Gen.Const("exp"), Gen.Const("aud"), Gen.Const("x"));
        var value = Gen.Frequency(
            (6, scalar),
            (1, scalar.Array[0, 3].Select(items => "[" + string.Join(",", items) + "]")),
            (1, Gen.Int[1, 80].Select(depth => new string('[', depth) + new string(']', depth))));
        var member = Gen.Select(name, value, (n, v) => $"\"{n}\":{v}");
        var overrides = member.Array[0, 6];
        var body = Gen.Frequency(
            (4, overrides.Select(m => m.Length == 0 ? ValidPayload : MergeInto(ValidPayload, "{" + string.Join(",", m) + "}"))),
            (1, overrides.Select(m => "{" + string.Join(",", m) + "}")),
            (1, value));

        body.Sample(payload =>
        {
            var result = _verifier.Verify(_signer.SignPayload(payload), Catalog, Now);
            return result.IsValid ? result.ErrorCode is null : Array.IndexOf(KnownCodes, result.ErrorCode) >= 0;
        }, iter: 5_000);
    }

    /// <summary>The override's members, then the base's members the override does not name (a repeat within the override stays).</summary>
    private static string MergeInto(string basePayload, string overrides)
    {
        var named = MemberName().Matches(overrides).Select(m => m.Groups[1].Value).ToHashSet(StringComparer.Ordinal);
        using var document = System.Text.Json.JsonDocument.Parse(basePayload);
        var kept = document.RootElement.EnumerateObject().Where(p => !named.Contains(p.Name)).Select(p => $"\"{p.Name}\":{p.Value.GetRawText()}");
        return overrides[..^1] + "," + string.Join(",", kept) + "}";
    }

    [System.Text.RegularExpressions.GeneratedRegex("\"([a-z_]+)\"\\s*:")]
    private static partial System.Text.RegularExpressions.Regex MemberName();

    private static bool SignedBytesEqual(string jws, string original)
    {
        var a = jws.Split('.');
        var b = original.Split('.');
        if (a.Length != 3 || a[0] != b[0] || a[1] != b[1])
        {
            return false;
        }

        try
        {
            return Base64Url.DecodeFromChars(a[2]).AsSpan().SequenceEqual(Base64Url.DecodeFromChars(b[2]));
        }
        catch (FormatException)
        {
            return false;
        }
    }
}
