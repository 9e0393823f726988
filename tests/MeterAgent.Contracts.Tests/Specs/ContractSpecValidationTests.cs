using MeterAgent.Contracts.Specs;

namespace MeterAgent.Contracts.Tests.Specs;

public sealed class ContractSpecValidationTests : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    [Fact]
    public void The_base_document_is_valid()
    {
        _folder.Write("good.json", SpecJson.Valid);

        var spec = Assert.Single(ContractCatalog.LoadFolder(_folder.Path).All);

        Assert.Equal("o200k-std-2026q4", spec.Id);
        Assert.Equal(TimeSpan.FromMinutes(15), spec.SettlementInterval);
        Assert.Equal(new TokenWeights(1m, 0.1m, 1.25m, 4m, 4m), spec.Weights);
    }

    [Theory]
    // id
    [InlineData("id", null, "id")]
    [InlineData("id", "\"\"", "id")]
    [InlineData("id", "\"Upper-Case\"", "id")]
    [InlineData("id", "\"-leading-dash\"", "id")]
    [InlineData("id", "\"has space\"", "id")]
    [InlineData("id", "\"a-very-long-contract-identifier-that-goes-on-and-on-past-64-chars-x\"", "id")]
    [InlineData("id", "\"ok\\n\"", "id")]
    [InlineData("id", "7", "id")]
    // version
    [InlineData("version", null, "version")]
    [InlineData("version", "0", "version")]
    [InlineData("version", "-1", "version")]
    [InlineData("version", "1.5", "version")]
    [InlineData("version", "\"1\"", "version")]
    // eligible_models
    [InlineData("eligible_models", null, "eligible_models")]
    [InlineData("eligible_models", "[]", "eligible_models")]
    [InlineData("eligible_models", "[\"gpt-4o*\", \"\"]", "eligible_models[1]")]
    [InlineData("eligible_models", "[\"  \"]", "eligible_models[0]")]
    [InlineData("eligible_models", "[null]", "eligible_models[0]")]
    [InlineData("eligible_models", "\"gpt-4o*\"", "eligible_models")]
    // unit_basis
    [InlineData("unit_basis", null, "unit_basis")]
    [InlineData("unit_basis", "\"Reference\"", "unit_basis")]
    [InlineData("unit_basis", "\"tokens\"", "unit_basis")]
    // weights
    [InlineData("weights", null, "weights")]
    [InlineData("weights.input", null, "weights.input")]
    [InlineData("weights.cached_input", null, "weights.cached_input")]
    [InlineData("weights.cache_write", null, "weights.cache_write")]
    [InlineData("weights.output", null, "weights.output")]
    [InlineData("weights.reasoning", null, "weights.reasoning")]
    [InlineData("weights.output", "-1", "weights.output")]
    [InlineData("weights.cached_input", "-0.1", "weights.cached_input")]
    [InlineData("weights.cache_write", "1.2500001", "weights.cache_write")]
    [InlineData("weights.reasoning", "\"4\"", "weights.reasoning")]
    [InlineData("weights.cache_read", "0.1", "weights.cache_read")]
    // delivery_window
    [InlineData("delivery_window", null, "delivery_window")]
    [InlineData("delivery_window.start", null, "delivery_window.start")]
    [InlineData("delivery_window.end", null, "delivery_window.end")]
    [InlineData("delivery_window.start", "\"2026-10-01\"", "delivery_window.start")]
    [InlineData("delivery_window.start", "\"2026-10-01T00:00:00\"", "delivery_window.start")]
    [InlineData("delivery_window.end", "\"next year\"", "delivery_window.end")]
    [InlineData("delivery_window.end", "\"2026-10-01T00:00:00Z\"", "delivery_window.end")]
    [InlineData("delivery_window.end", "\"2026-09-01T00:00:00Z\"", "delivery_window.end")]
    // settlement_interval
    [InlineData("settlement_interval", null, "settlement_interval")]
    [InlineData("settlement_interval", "\"00:00:00\"", "settlement_interval")]
    [InlineData("settlement_interval", "\"-00:15:00\"", "settlement_interval")]
    [InlineData("settlement_interval", "\"1.00:00:01\"", "settlement_interval")]
    [InlineData("settlement_interval", "\"2.00:00:00\"", "settlement_interval")]
    [InlineData("settlement_interval", "\"00:07:00\"", "settlement_interval")]
    [InlineData("settlement_interval", "\"15m\"", "settlement_interval")]
    [InlineData("settlement_interval", "900", "settlement_interval")]
    // unknown top-level member: a typo must not be ignored
    [InlineData("settlement_intreval", "\"00:15:00\"", "settlement_intreval")]
    public void A_bad_field_is_named_with_its_file(string path, string? rawJson, string expectedField)
    {
        var file = _folder.Write("bad-spec.json", SpecJson.With(path, rawJson));

        var ex = Assert.Throws<ContractSpecException>(() => ContractCatalog.LoadFolder(_folder.Path));

        Assert.Equal(file, ex.File);
        Assert.Equal(expectedField, ex.Field);
        Assert.Contains("bad-spec.json", ex.Message, StringComparison.Ordinal);
        Assert.Contains($"'{expectedField}'", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Weights_with_neither_input_nor_output_are_refused()
    {
        _folder.Write("free.json", SpecJson.With("weights", """{ "input": 0, "cached_input": 0, "cache_write": 0, "output": 0, "reasoning": 1 }"""));

        var ex = Assert.Throws<ContractSpecException>(() => ContractCatalog.LoadFolder(_folder.Path));

        Assert.Equal("weights", ex.Field);
    }

    [Theory]
    [InlineData("""{ "input": 0, "cached_input": 0, "cache_write": 0, "output": 1, "reasoning": 0 }""")]
    [InlineData("""{ "input": 1, "cached_input": 0, "cache_write": 0, "output": 0, "reasoning": 0 }""")]
    [InlineData("""{ "input": 0.000001, "cached_input": 0.0000010, "cache_write": 1.250000, "output": 4, "reasoning": 4 }""")]
    public void Weights_at_the_limits_are_accepted(string weights)
    {
        _folder.Write("edge.json", SpecJson.With("weights", weights));

        Assert.Single(ContractCatalog.LoadFolder(_folder.Path).All);
    }

    [Theory]
    [InlineData("1.00:00:00")]
    [InlineData("00:00:01")]
    [InlineData("01:00:00")]
    [InlineData("08:00:00")]
    public void Intervals_that_divide_a_day_are_accepted(string interval)
    {
        _folder.Write("interval.json", SpecJson.With("settlement_interval", $"\"{interval}\""));

        Assert.Equal(TimeSpan.Parse(interval, System.Globalization.CultureInfo.InvariantCulture), Assert.Single(ContractCatalog.LoadFolder(_folder.Path).All).SettlementInterval);
    }

    [Fact]
    public void Offsets_other_than_utc_are_read_as_the_instant_they_name()
    {
        _folder.Write("offset.json", SpecJson.With("delivery_window.start", "\"2026-10-01T02:00:00+02:00\""));

        var spec = Assert.Single(ContractCatalog.LoadFolder(_folder.Path).All);

        Assert.Equal(new DateTimeOffset(2026, 10, 1, 0, 0, 0, TimeSpan.Zero), spec.DeliveryStart);
    }

    [Theory]
    [InlineData("{ \"id\": \"x\",\n  \"version\": 1,\n  oops }", 3)]
    [InlineData("{ \"id\": \"x\", }", 1)]
    [InlineData("\n\n{ \"id\": // comment\n \"x\" }", 3)]
    [InlineData("", 1)]
    public void Malformed_json_names_the_line(string content, int line)
    {
        _folder.Write("broken.json", content);

        var ex = Assert.Throws<ContractSpecException>(() => ContractCatalog.LoadFolder(_folder.Path));

        Assert.Equal("(json)", ex.Field);
        Assert.EndsWith("broken.json", ex.File, StringComparison.Ordinal);
        Assert.Contains($"line {line}", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("[]")]
    [InlineData("\"spec\"")]
    [InlineData("null")]
    public void A_document_that_is_not_an_object_is_refused(string content)
    {
        _folder.Write("array.json", content);

        var ex = Assert.Throws<ContractSpecException>(() => ContractCatalog.LoadFolder(_folder.Path));

        Assert.Equal("(json)", ex.Field);
    }

    [Fact]
    public void A_duplicate_member_is_refused()
    {
        _folder.Write("twice.json", SpecJson.Valid.Replace("\"version\": 1,", "\"version\": 1, \"version\": 2,", StringComparison.Ordinal));

        var ex = Assert.Throws<ContractSpecException>(() => ContractCatalog.LoadFolder(_folder.Path));

        Assert.Equal("version", ex.Field);
        Assert.Contains("more than once", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_duplicate_weight_is_refused()
    {
        _folder.Write("twice.json", SpecJson.Valid.Replace("\"output\": 4,", "\"output\": 4, \"output\": 0,", StringComparison.Ordinal));

        var ex = Assert.Throws<ContractSpecException>(() => ContractCatalog.LoadFolder(_folder.Path));

        Assert.Equal("weights.output", ex.Field);
        Assert.Contains("more than once", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_unknown_field_reads_as_a_possible_typo()
    {
        _folder.Write("typo.json", SpecJson.With("weights.cached_imput", "0.1"));

        var ex = Assert.Throws<ContractSpecException>(() => ContractCatalog.LoadFolder(_folder.Path));

        Assert.Equal("weights.cached_imput", ex.Field);
        Assert.Contains("not a known field", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_wrong_json_type_names_the_type_expected()
    {
        _folder.Write("type.json", SpecJson.With("version", "\"1\""));

        var ex = Assert.Throws<ContractSpecException>(() => ContractCatalog.LoadFolder(_folder.Path));

        Assert.Equal("version", ex.Field);
        Assert.Contains("must be a whole JSON number", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("System.", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Specs_built_in_code_are_validated_too()
    {
        var spec = new ContractSpec
        {
            Id = "in-code",
            Version = 1,
            EligibleModels = ["m"],
            Basis = UnitBasis.Reference,
            Weights = new TokenWeights(1, 0, 0, -4, 0),
            DeliveryStart = DateTimeOffset.UnixEpoch,
            DeliveryEnd = DateTimeOffset.UnixEpoch.AddDays(1),
            SettlementInterval = TimeSpan.FromMinutes(15),
        };

        var ex = Assert.Throws<ContractSpecException>(() => new ContractCatalog([spec]));

        Assert.Equal("(in memory)", ex.File);
        Assert.Equal("weights.output", ex.Field);
    }
}
