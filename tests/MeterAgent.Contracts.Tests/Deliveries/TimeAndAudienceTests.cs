using MeterAgent.Contracts.Deliveries;
using MeterAgent.Contracts.Specs;

namespace MeterAgent.Contracts.Tests.Deliveries;

/// <summary>iat against the clock with a skew, exp, an optional max age, and aud against the provider's id.</summary>
public sealed class TimeAndAudienceTests : IDisposable
{
    private const long NowSeconds = 1_793_534_400; // 2026-11-01T12:00:00Z

    private static readonly DateTimeOffset Now = DateTimeOffset.FromUnixTimeSeconds(NowSeconds);

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

    private readonly DeliverySigner _signer;
    private readonly Microsoft.IdentityModel.Tokens.JsonWebKeySet _keys;

    public TimeAndAudienceTests() => (_signer, _keys) = DeliverySigner.CreateNew("clearing-time");

    public void Dispose() => _signer.Dispose();

    [Fact]
    public void The_default_skew_is_five_minutes_and_there_is_no_max_age_or_audience()
    {
        Assert.Equal(TimeSpan.FromMinutes(5), DeliveryClaimRules.Default.ClockSkew);
        Assert.Null(DeliveryClaimRules.Default.MaxAge);
        Assert.Null(DeliveryClaimRules.Default.Audience);
    }

    [Theory]
    [InlineData(0, null)]
    [InlineData(-86_400 * 365, null)]
    [InlineData(299, null)]
    [InlineData(300, null)]
    [InlineData(301, DeliveryErrorCodes.NotYetValid)]
    [InlineData(86_400, DeliveryErrorCodes.NotYetValid)]
    public void Iat_may_be_ahead_of_the_clock_by_the_skew_and_no_more(long iatOffset, string? code)
    {
        var result = Verify(Payload(iat: NowSeconds + iatOffset), new DeliveryClaimRules());

        Assert.Equal(code, result.ErrorCode);
        Assert.Equal(code is null, result.IsValid);
    }

    [Theory]
    [InlineData(60, 0, null)]
    [InlineData(1, 0, null)]
    [InlineData(0, 0, DeliveryErrorCodes.Expired)]
    [InlineData(-1, 0, DeliveryErrorCodes.Expired)]
    [InlineData(-299, 300, null)]
    [InlineData(-300, 300, DeliveryErrorCodes.Expired)]
    public void Exp_is_honoured_with_the_skew(long expOffset, int skewSeconds, string? code)
    {
        var rules = new DeliveryClaimRules { ClockSkew = TimeSpan.FromSeconds(skewSeconds) };

        var result = Verify(Payload(iat: NowSeconds - 600, extra: $",\"exp\":{NowSeconds + expOffset}"), rules);

        Assert.Equal(code, result.ErrorCode);
    }

    [Fact]
    public void Exp_is_compared_with_the_exact_clock_not_the_rounded_one()
    {
        var rules = new DeliveryClaimRules { ClockSkew = TimeSpan.Zero };
        var payload = Payload(iat: NowSeconds - 600, extra: $",\"exp\":{NowSeconds + 1}");

        Assert.True(Verify(payload, rules, Now.AddMilliseconds(999)).IsValid);
        Assert.Equal(DeliveryErrorCodes.Expired, Verify(payload, rules, Now.AddSeconds(1)).ErrorCode);
    }

    [Theory]
    [InlineData("\"tomorrow\"")]
    [InlineData("1.5")]
    [InlineData("-1")]
    [InlineData("null")]
    [InlineData("1e30")]
    public void An_exp_that_is_not_a_numeric_date_is_malformed(string exp)
    {
        Assert.Equal(DeliveryErrorCodes.Malformed, Verify(Payload(iat: NowSeconds, extra: $",\"exp\":{exp}"), new DeliveryClaimRules()).ErrorCode);
    }

    [Theory]
    [InlineData(3600 + 300 - 1, null)]
    [InlineData(3600 + 300, DeliveryErrorCodes.Expired)]
    [InlineData(86_400, DeliveryErrorCodes.Expired)]
    public void A_max_age_refuses_older_notices_as_expired(long age, string? code)
    {
        var rules = new DeliveryClaimRules { MaxAge = TimeSpan.FromHours(1) };

        Assert.Equal(code, Verify(Payload(iat: NowSeconds - age), rules).ErrorCode);
    }

    [Fact]
    public void Without_a_max_age_an_old_notice_verifies_the_same_as_when_it_was_new()
    {
        var payload = Payload(iat: NowSeconds - (86_400 * 30));

        Assert.True(Verify(payload, new DeliveryClaimRules()).IsValid);
    }

    [Theory]
    [InlineData(null, null, null)]
    [InlineData(null, "provider-a", null)]
    [InlineData("\"provider-a\"", "provider-a", null)]
    [InlineData("[\"other\",\"provider-a\"]", "provider-a", null)]
    [InlineData("\"provider-a\"", null, DeliveryErrorCodes.WrongAudience)]
    [InlineData("\"provider-b\"", "provider-a", DeliveryErrorCodes.WrongAudience)]
    [InlineData("\"Provider-A\"", "provider-a", DeliveryErrorCodes.WrongAudience)]
    [InlineData("[\"provider-b\"]", "provider-a", DeliveryErrorCodes.WrongAudience)]
    [InlineData("[]", "provider-a", DeliveryErrorCodes.Malformed)]
    [InlineData("[42]", "provider-a", DeliveryErrorCodes.Malformed)]
    [InlineData("42", "provider-a", DeliveryErrorCodes.Malformed)]
    [InlineData("null", "provider-a", DeliveryErrorCodes.Malformed)]
    [InlineData("\"\\ud800\"", "provider-a", DeliveryErrorCodes.Malformed)]
    public void Aud_when_present_must_name_this_provider(string? aud, string? providerId, string? code)
    {
        var rules = new DeliveryClaimRules { Audience = providerId };

        var result = Verify(Payload(iat: NowSeconds, extra: aud is null ? string.Empty : $",\"aud\":{aud}"), rules);

        Assert.Equal(code, result.ErrorCode);
        Assert.Equal(code is null, result.IsValid);
    }

    [Fact]
    public void A_wrong_audience_message_names_both_sides()
    {
        var result = Verify(Payload(iat: NowSeconds, extra: ",\"aud\":\"provider-b\""), new DeliveryClaimRules { Audience = "provider-a" });

        Assert.Contains("provider-b", result.Message, StringComparison.Ordinal);
        Assert.Contains("provider-a", result.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Rules_given_to_a_file_loaded_verifier_apply()
    {
        using var folder = new TempFolder();
        var path = folder.Write("keys.json", _signer.PublicJwksJson);
        var verifier = DeliveryVerifier.FromJwksFile(path, new DeliveryClaimRules { Audience = "provider-a" });

        Assert.Equal(DeliveryErrorCodes.WrongAudience, verifier.Verify(_signer.SignPayload(Payload(NowSeconds, ",\"aud\":\"x\"")), Catalog, Now).ErrorCode);
    }

    private DeliveryVerification Verify(string payload, DeliveryClaimRules rules, DateTimeOffset? now = null) =>
        new DeliveryVerifier(_keys, rules).Verify(_signer.SignPayload(payload), Catalog, now ?? Now);

    private static string Payload(long iat, string extra = "") =>
        $$"""{"delivery_id":"dlv-time","contract_id":"o200k-std-2026q4","contract_version":1,"account_id":"acme","quantity":"5","window_start":"2026-10-01T00:00:00Z","window_end":"2026-12-01T00:00:00Z","iat":{{iat}}{{extra}}}""";
}
