using System.Security.Cryptography;
using System.Text.Json.Nodes;
using MeterAgent.Contracts.Deliveries;
using MeterAgent.Contracts.Specs;
using Microsoft.IdentityModel.Tokens;

namespace MeterAgent.Contracts.Tests.Deliveries;

public sealed class TrustedKeysTests : IDisposable
{
    private readonly TempFolder _folder = new();
    private readonly DeliverySigner _signer;

    public TrustedKeysTests() => (_signer, _) = DeliverySigner.CreateNew("ch-1");

    public void Dispose()
    {
        _signer.Dispose();
        _folder.Dispose();
    }

    [Fact]
    public void The_exported_public_jwks_is_public_and_complete()
    {
        var key = JsonNode.Parse(_signer.PublicJwksJson)!["keys"]!.AsArray().Single()!.AsObject();

        Assert.Equal(["kty", "crv", "kid", "use", "alg", "x", "y"], key.Select(m => m.Key));
        Assert.Equal("EC", (string?)key["kty"]);
        Assert.Equal("P-256", (string?)key["crv"]);
        Assert.Equal("ch-1", (string?)key["kid"]);
        Assert.Equal("ES256", (string?)key["alg"]);
        Assert.Null(key["d"]);
    }

    [Fact]
    public void A_verifier_from_the_exported_file_verifies_the_signers_notices()
    {
        var path = _folder.Write("clearing-house.jwks.json", _signer.PublicJwksJson);
        var verifier = DeliveryVerifier.FromJwksFile(path);
        var catalog = ContractCatalog.LoadFolder(Path.Combine(RepoRoot.Path, "contracts"));
        var claims = new DeliveryNoticeClaims(
            "dlv-file", "claude-native-2026q4", 1, "acme", 10m,
            new DateTimeOffset(2026, 10, 1, 0, 0, 0, TimeSpan.Zero), new DateTimeOffset(2026, 11, 1, 0, 0, 0, TimeSpan.Zero), DateTimeOffset.UnixEpoch);

        var result = verifier.Verify(_signer.Sign(claims), catalog, new DateTimeOffset(2026, 10, 15, 0, 0, 0, TimeSpan.Zero));

        Assert.True(result.IsValid, result.Message);
        Assert.Equal(["ch-1"], verifier.KeyIds);
    }

    [Fact]
    public void A_file_that_trusts_no_key_is_refused_naming_it()
    {
        var path = _folder.Write("empty.jwks.json", """{"keys":[]}""");

        var ex = Assert.Throws<InvalidDataException>(() => DeliveryVerifier.FromJwksFile(path));

        Assert.Contains(path, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_file_that_is_not_a_jwks_is_refused_naming_it()
    {
        var path = _folder.Write("broken.jwks.json", "{ not json");

        var ex = Assert.Throws<InvalidDataException>(() => DeliveryVerifier.FromJwksFile(path));

        Assert.Contains(path, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_missing_file_is_named()
    {
        var path = Path.Combine(_folder.Path, "absent.jwks.json");

        var ex = Assert.Throws<FileNotFoundException>(() => DeliveryVerifier.FromJwksFile(path));

        Assert.Contains(path, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_private_key_in_the_trust_file_is_refused()
    {
        using var ecdsa = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var jwk = JsonWebKeyConverter.ConvertFromECDsaSecurityKey(new ECDsaSecurityKey(ecdsa) { KeyId = "leaked" });
        Assert.NotNull(jwk.D);

        var ex = Assert.Throws<ArgumentException>(() => new DeliveryVerifier(Set(jwk)));

        Assert.Contains("leaked", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_rsa_key_is_refused()
    {
        using var rsa = RSA.Create(2048);
        var jwk = JsonWebKeyConverter.ConvertFromRSASecurityKey(new RsaSecurityKey(rsa.ExportParameters(false)) { KeyId = "rsa" });

        var ex = Assert.Throws<ArgumentException>(() => new DeliveryVerifier(Set(jwk)));

        Assert.Contains("P-256", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_p384_key_is_refused()
    {
        using var ecdsa = ECDsa.Create(ECCurve.NamedCurves.nistP384);
        var jwk = JsonWebKeyConverter.ConvertFromECDsaSecurityKey(new ECDsaSecurityKey(ECDsa.Create(ecdsa.ExportParameters(false))) { KeyId = "p384" });

        Assert.Throws<ArgumentException>(() => new DeliveryVerifier(Set(jwk)));
    }

    [Fact]
    public void A_point_off_the_curve_is_refused()
    {
        var jwk = PublicJwk();
        var x = Base64UrlEncoder.DecodeBytes(jwk.X);
        x[^1] ^= 0x01;
        jwk.X = Base64UrlEncoder.Encode(x);

        Assert.Throws<ArgumentException>(() => new DeliveryVerifier(Set(jwk)));
    }

    [Theory]
    [InlineData(null, null, null)]
    [InlineData("", null, null)]
    [InlineData("ch-1", "RS256", null)]
    [InlineData("ch-1", null, "enc")]
    public void Keys_without_a_kid_or_for_another_use_are_refused(string? kid, string? alg, string? use)
    {
        var jwk = PublicJwk();
        jwk.Kid = kid;
        jwk.Alg = alg;
        jwk.Use = use;

        Assert.Throws<ArgumentException>(() => new DeliveryVerifier(Set(jwk)));
    }

    [Fact]
    public void A_kid_trusted_twice_is_refused()
    {
        var ex = Assert.Throws<ArgumentException>(() => new DeliveryVerifier(Set(PublicJwk(), PublicJwk())));

        Assert.Contains("ch-1", ex.Message, StringComparison.Ordinal);
    }

    private JsonWebKey PublicJwk() => new JsonWebKeySet(_signer.PublicJwksJson).Keys[0];

    private static JsonWebKeySet Set(params JsonWebKey[] keys)
    {
        var set = new JsonWebKeySet();
        foreach (var key in keys)
        {
            set.Keys.Add(key);
        }

        return set;
    }
}
