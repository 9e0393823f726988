using MeterAgent.Contracts.Specs;

namespace MeterAgent.Contracts.Tests.Specs;

public sealed class ModelPatternTests
{
    [Theory]
    [InlineData("gpt-4o*", "gpt-4o", true)]
    [InlineData("gpt-4o*", "gpt-4o-mini-2024-07-18", true)]
    [InlineData("gpt-4o*", "GPT-4O-Mini", true)]
    [InlineData("gpt-4o*", "gpt-4", false)]
    [InlineData("gpt-4o*", "my-gpt-4o", false)]
    [InlineData("*-mini", "gpt-4o-mini", true)]
    [InlineData("*-mini", "gpt-4o-mini-2024", false)]
    [InlineData("emu-*", "emu-", true)]
    [InlineData("emu-*", "emu", false)]
    [InlineData("o?", "o3", true)]
    [InlineData("o?", "o", false)]
    [InlineData("o?", "o3-mini", false)]
    [InlineData("o?-*", "o4-mini", true)]
    [InlineData("claude-*-4-*", "claude-sonnet-4-5", true)]
    [InlineData("claude-*-4-*", "claude-sonnet-3-5", false)]
    [InlineData("a*b*c", "aXXbYYbZZc", true)]
    [InlineData("a*b*c", "aXXbYYbZZ", false)]
    [InlineData("a*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", false)]
    [InlineData("*", "", true)]
    [InlineData("**", "anything", true)]
    [InlineData("exact", "exact", true)]
    [InlineData("exact", "EXACT", true)]
    [InlineData("exact", "exactly", false)]
    [InlineData("exact", "", false)]
    [InlineData("gpt-4.1", "gpt-4x1", false)]
    [InlineData("gpt-4?1", "gpt-4.1", true)]
    public void Patterns_match_whole_names_case_insensitively(string pattern, string model, bool matches)
    {
        Assert.Equal(matches, ModelPattern.IsMatch(pattern, model));
        Assert.Equal(matches, Spec(pattern).CoversModel(model));
    }

    [Fact]
    public void Any_pattern_of_several_covers_the_model()
    {
        var spec = Spec("gpt-4o*", "claude-*");

        Assert.True(spec.CoversModel("claude-haiku-4-5"));
        Assert.True(spec.CoversModel("gpt-4o"));
        Assert.False(spec.CoversModel("gemini-2.5-pro"));
    }

    [Fact]
    public void Matching_does_not_allocate()
    {
        var spec = Spec("gpt-4o*", "claude-*-4-*", "o?-mini");
        spec.CoversModel("o4-mini");

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 1000; i++)
        {
            spec.CoversModel("claude-sonnet-4-5");
            spec.CoversModel("o4-mini");
            spec.CoversModel("gemini-2.5-pro");
        }

        Assert.Equal(before, GC.GetAllocatedBytesForCurrentThread());
    }

    private static ContractSpec Spec(params string[] patterns) => new()
    {
        Id = "glob",
        Version = 1,
        EligibleModels = patterns,
        Basis = UnitBasis.Reference,
        Weights = new TokenWeights(1, 0, 0, 1, 1),
        DeliveryStart = DateTimeOffset.UnixEpoch,
        DeliveryEnd = DateTimeOffset.UnixEpoch.AddDays(1),
        SettlementInterval = TimeSpan.FromMinutes(15),
    };
}
