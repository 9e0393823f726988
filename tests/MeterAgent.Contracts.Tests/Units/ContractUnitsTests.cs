using MeterAgent.Contracts.Specs;
using MeterAgent.Contracts.Units;

namespace MeterAgent.Contracts.Tests.Units;

public sealed class ContractUnitsTests
{
    private static readonly TokenWeights Standard = new(Input: 1m, CachedInput: 0.1m, CacheWrite: 1.25m, Output: 4m, Reasoning: 4m);

    [Fact]
    public void Reference_basis_prices_reference_counts_plus_native_reasoning()
    {
        var spec = Spec(UnitBasis.Reference, Standard);
        var counts = new MeteredCounts(
            ReferenceInput: 1000, ReferenceOutput: 200,
            NativeInput: 5000, NativeCachedInput: 4000, NativeCacheWrite: 500, NativeOutput: 700, NativeReasoning: 50);

        // 1·1000 + 4·200 + 4·50 = 2000 units; native input, cache reads and writes play no part on this basis.
        Assert.Equal(2_000_000_000, ContractUnits.Actual(spec, counts));
    }

    [Fact]
    public void Reference_basis_without_native_counts_prices_reference_counts_only()
    {
        var spec = Spec(UnitBasis.Reference, Standard);

        Assert.Equal(1_800_000_000, ContractUnits.Actual(spec, new MeteredCounts(1000, 200, null, null, null, null, null)));
    }

    [Fact]
    public void Native_basis_prices_each_class_once()
    {
        var spec = Spec(UnitBasis.Native, new TokenWeights(1m, 0.1m, 1.25m, 5m, 6m));
        var counts = new MeteredCounts(
            ReferenceInput: 900, ReferenceOutput: 280,
            NativeInput: 1000, NativeCachedInput: 600, NativeCacheWrite: 100, NativeOutput: 500, NativeReasoning: 200);

        // uncached 1000-600-100 = 300, visible output 500-200 = 300:
        // 1·300 + 0.1·600 + 1.25·100 + 5·300 + 6·200 = 300 + 60 + 125 + 1500 + 1200 = 3185 units.
        Assert.Equal(3_185_000_000, ContractUnits.Actual(spec, counts));
    }

    [Fact]
    public void Native_basis_treats_missing_cache_and_reasoning_counts_as_zero()
    {
        var spec = Spec(UnitBasis.Native, Standard);

        Assert.Equal(1_800_000_000, ContractUnits.Actual(spec, new MeteredCounts(1, 1, 1000, null, null, 200, null)));
    }

    [Theory]
    [InlineData(null, 200L)]
    [InlineData(1000L, null)]
    [InlineData(null, null)]
    public void Native_basis_falls_back_to_reference_counts_when_native_ones_are_missing(long? nativeInput, long? nativeOutput)
    {
        var spec = Spec(UnitBasis.Native, Standard);
        var counts = new MeteredCounts(300, 100, nativeInput, 50, 10, nativeOutput, 7);

        // Reference formula: 1·300 + 4·100 + 4·7 (reasoning still enters through its native count).
        Assert.Equal(728_000_000, ContractUnits.Actual(spec, counts));
    }

    [Fact]
    public void A_placeholder_native_output_is_never_billed_below_the_reference_count_of_what_was_delivered()
    {
        // Anthropic's message_start says output_tokens: 1; a stream cut before message_delta delivered 63 reference tokens.
        var spec = Spec(UnitBasis.Native, Standard);
        var priced = ContractUnits.Price(spec, new MeteredCounts(
            ReferenceInput: 20, ReferenceOutput: 63, NativeInput: 25, NativeCachedInput: 0, NativeCacheWrite: 0, NativeOutput: 1, NativeReasoning: 0));

        // 1·25 + 4·63 = 277 units, not 1·25 + 4·1 = 29.
        Assert.Equal(new PricedUnits(277_000_000, PricedUnits.NativeFloored), priced);
    }

    [Fact]
    public void Native_input_below_the_reference_prompt_count_is_raised_to_it_as_plain_input()
    {
        var spec = Spec(UnitBasis.Native, Standard);
        var priced = ContractUnits.Price(spec, new MeteredCounts(
            ReferenceInput: 1000, ReferenceOutput: 10, NativeInput: 600, NativeCachedInput: 500, NativeCacheWrite: 0, NativeOutput: 10, NativeReasoning: 0));

        // uncached 600-500 = 100, plus the 400 the upstream did not report: 1·500 + 0.1·500 + 4·10 = 590 units.
        Assert.Equal(new PricedUnits(590_000_000, PricedUnits.NativeFloored), priced);
    }

    [Fact]
    public void Each_price_names_the_counts_it_used()
    {
        var counts = new MeteredCounts(100, 50, 120, 0, 0, 60, 0);
        Assert.Equal(PricedUnits.Native, ContractUnits.Price(Spec(UnitBasis.Native, Standard), counts).Basis);
        Assert.Equal(PricedUnits.Reference, ContractUnits.Price(Spec(UnitBasis.Reference, Standard), counts).Basis);
        Assert.Equal(
            PricedUnits.ReferenceFallback,
            ContractUnits.Price(Spec(UnitBasis.Native, Standard), new MeteredCounts(100, 50, null, null, null, null, null)).Basis);
    }

    [Fact]
    public void An_estimate_past_what_a_ledger_holds_saturates_instead_of_failing()
    {
        var spec = Spec(UnitBasis.Reference, Standard);

        Assert.Equal(long.MaxValue, ContractUnits.Estimate(spec, 10, long.MaxValue));
        Assert.Equal(long.MaxValue, ContractUnits.Estimate(spec, long.MaxValue, 0));
        // A large estimate that a ledger can hold is still exact: 576,460,752,303 output tokens at weight 4.
        Assert.Equal(2_305_843_009_212_000_000, ContractUnits.Estimate(spec, 0, 576_460_752_303));
    }

    [Fact]
    public void Native_parts_larger_than_their_totals_floor_at_zero()
    {
        var spec = Spec(UnitBasis.Native, Standard);
        var counts = new MeteredCounts(0, 0, NativeInput: 100, NativeCachedInput: 90, NativeCacheWrite: 30, NativeOutput: 10, NativeReasoning: 25);

        // uncached max(0, 100-90-30) = 0, visible max(0, 10-25) = 0: 0.1·90 + 1.25·30 + 4·25 = 9 + 37.5 + 100.
        Assert.Equal(146_500_000, ContractUnits.Actual(spec, counts));
    }

    [Fact]
    public void Fractional_weights_are_exact_to_the_micro_unit()
    {
        var spec = Spec(UnitBasis.Native, new TokenWeights(0.000003m, 0.000001m, 0m, 0.000015m, 0.000015m));
        var counts = new MeteredCounts(0, 0, 7, 3, 0, 11, 5);

        // 0.000003·4 + 0.000001·3 + 0.000015·6 + 0.000015·5 = 0.000012 + 0.000003 + 0.00009 + 0.000075 = 0.00018 units.
        Assert.Equal(180, ContractUnits.Actual(spec, counts));
    }

    [Fact]
    public void The_sum_is_rounded_up_once_at_the_end()
    {
        // Finer than a micro-unit per token: only a spec built in code can say this, files are held to 6 decimals.
        var spec = Spec(UnitBasis.Reference, new TokenWeights(0.0000004m, 0m, 0m, 0.0000004m, 0m));

        // 0.4 micro per token: rounding per class would give ceil(0.4)+ceil(0.4) = 2; once at the end, ceil(0.8) = 1.
        Assert.Equal(1, ContractUnits.Actual(spec, new MeteredCounts(1, 1, null, null, null, null, null)));
        // 3 tokens: 1.2 micro rounds up to 2, never down to 1.
        Assert.Equal(2, ContractUnits.Actual(spec, new MeteredCounts(3, 0, null, null, null, null, null)));
        Assert.Equal(0, ContractUnits.Actual(spec, new MeteredCounts(0, 0, null, null, null, null, null)));
    }

    [Fact]
    public void Negative_counts_are_refused()
    {
        var spec = Spec(UnitBasis.Native, Standard);

        Assert.Throws<ArgumentOutOfRangeException>(() => ContractUnits.Actual(spec, new MeteredCounts(-1, 0, null, null, null, null, null)));
        Assert.Throws<ArgumentOutOfRangeException>(() => ContractUnits.Actual(spec, new MeteredCounts(0, 0, 10, -1, null, 5, null)));
        Assert.Throws<ArgumentOutOfRangeException>(() => ContractUnits.Estimate(spec, -1, 10));
        Assert.Throws<ArgumentOutOfRangeException>(() => ContractUnits.Estimate(spec, 10, -1));
    }

    [Fact]
    public void Estimate_prices_max_output_at_the_dearest_output_class()
    {
        var reasoningDearer = Spec(UnitBasis.Reference, new TokenWeights(1m, 0.1m, 1.25m, 4m, 8m));
        var outputDearer = Spec(UnitBasis.Native, new TokenWeights(0.5m, 0.1m, 1.25m, 4m, 2m));

        Assert.Equal(9_000_000_000, ContractUnits.Estimate(reasoningDearer, 1000, 1000));
        Assert.Equal(4_500_000_000, ContractUnits.Estimate(outputDearer, 1000, 1000));
        Assert.Equal(0, ContractUnits.Estimate(outputDearer, 0, 0));
    }

    [Fact]
    public void Estimate_rounds_up()
    {
        var spec = Spec(UnitBasis.Reference, new TokenWeights(0.0000004m, 0m, 0m, 0.0000004m, 0m));

        Assert.Equal(1, ContractUnits.Estimate(spec, 1, 0));
        Assert.Equal(2, ContractUnits.Estimate(spec, 2, 2));
    }

    [Theory]
    [InlineData(UnitBasis.Reference)]
    [InlineData(UnitBasis.Native)]
    public void Estimate_bounds_actual_when_output_is_within_max_on_reference_counts(UnitBasis basis)
    {
        // Native basis is included only without native counts, where it prices reference counts like the reference basis.
        var random = new Random(20261001);
        for (var i = 0; i < 20_000; i++)
        {
            var weights = new TokenWeights(
                RandomWeight(random), RandomWeight(random), RandomWeight(random), RandomWeight(random), RandomWeight(random));
            var spec = Spec(basis, weights);
            var referenceInput = random.NextInt64(0, 2_000_000);
            var maxOutput = random.NextInt64(0, 200_000);
            var reasoning = random.Next(3) == 0 ? (long?)null : random.NextInt64(0, maxOutput + 1);
            var referenceOutput = random.NextInt64(0, maxOutput - (reasoning ?? 0) + 1);
            var counts = basis == UnitBasis.Reference
                ? new MeteredCounts(referenceInput, referenceOutput, random.NextInt64(0, 3_000_000), random.NextInt64(0, 1_000_000), random.NextInt64(0, 1_000_000), random.NextInt64(0, 300_000), reasoning)
                : new MeteredCounts(referenceInput, referenceOutput, null, null, null, null, reasoning);

            var estimate = ContractUnits.Estimate(spec, referenceInput, maxOutput);
            var actual = ContractUnits.Actual(spec, counts);

            Assert.True(estimate >= actual, $"case {i}: estimate {estimate} < actual {actual} for {weights} {counts} max {maxOutput}");
        }
    }

    [Fact]
    public void A_native_request_with_more_native_than_reference_input_can_exceed_its_estimate()
    {
        // Documented overage: the estimate only knows the reference input.
        var spec = Spec(UnitBasis.Native, Standard);

        var estimate = ContractUnits.Estimate(spec, referenceInputTokens: 1000, maxOutputTokens: 100);
        var actual = ContractUnits.Actual(spec, new MeteredCounts(1000, 100, 1200, 0, 0, 100, 0));

        Assert.True(actual > estimate);
    }

    [Fact]
    public void The_worked_examples_in_the_docs_hold_for_the_shipped_specs()
    {
        var catalog = ContractCatalog.LoadFolder(Path.Combine(RepoRoot.Path, "contracts"));
        var claude = catalog.Find("claude-native-2026q4")!;
        var general = catalog.Find("o200k-std-2026q4")!;
        Assert.True(claude.CoversModel("claude-sonnet-4-5"));
        Assert.True(general.CoversModel("o3"));

        Assert.Equal(7_870_000_000, ContractUnits.Estimate(claude, 2750, 1024));
        Assert.Equal(3_125_000_000, ContractUnits.Actual(claude, new MeteredCounts(2750, 390, 2800, 2000, 500, 400, null)));

        Assert.Equal(9_200_000_000, ContractUnits.Estimate(general, 1200, 2000));
        Assert.Equal(5_800_000_000, ContractUnits.Actual(general, new MeteredCounts(1200, 350, 1300, 1000, null, 1150, 800)));

        var fine = Spec(UnitBasis.Native, new TokenWeights(0.000003m, 0.000001m, 0m, 0.000015m, 0m));
        Assert.Equal(24, ContractUnits.Actual(fine, new MeteredCounts(0, 0, 10, 3, 0, 0, null)));
    }

    [Theory]
    [InlineData("0", 0L)]
    [InlineData("1", 1_000_000L)]
    [InlineData("1.5", 1_500_000L)]
    [InlineData("0.000001", 1L)]
    [InlineData("1.500000000", 1_500_000L)]
    [InlineData("123456.789012", 123_456_789_012L)]
    [InlineData("9223372036854.775807", long.MaxValue)]
    public void ToMicro_is_exact(string units, long micro)
    {
        var value = decimal.Parse(units, System.Globalization.CultureInfo.InvariantCulture);

        Assert.Equal(micro, ContractUnits.ToMicro(value));
        Assert.Equal(value, ContractUnits.FromMicro(micro));
    }

    [Theory]
    [InlineData("0.0000001")]
    [InlineData("1.2345678")]
    public void ToMicro_refuses_more_than_six_decimals(string units)
    {
        Assert.Throws<ArgumentException>(() => ContractUnits.ToMicro(decimal.Parse(units, System.Globalization.CultureInfo.InvariantCulture)));
    }

    [Theory]
    [InlineData("-1")]
    [InlineData("-0.000001")]
    [InlineData("9223372036854.775808")]
    [InlineData("79228162514264337593543950335")]
    public void ToMicro_refuses_negative_and_out_of_range_amounts(string units)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => ContractUnits.ToMicro(decimal.Parse(units, System.Globalization.CultureInfo.InvariantCulture)));
    }

    private static decimal RandomWeight(Random random) => random.Next(5) == 0 ? 0m : random.NextInt64(0, 20_000_000) / 1_000_000m;

    private static ContractSpec Spec(UnitBasis basis, TokenWeights weights) => new()
    {
        Id = "units",
        Version = 1,
        EligibleModels = ["*"],
        Basis = basis,
        Weights = weights,
        DeliveryStart = DateTimeOffset.UnixEpoch,
        DeliveryEnd = DateTimeOffset.UnixEpoch.AddDays(1),
        SettlementInterval = TimeSpan.FromMinutes(15),
    };
}
