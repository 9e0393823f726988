using MeterAgent.Contracts.Deliveries;
using MeterAgent.Contracts.Specs;
using Microsoft.IdentityModel.Tokens;

namespace MeterAgent.Contracts.Tests.Deliveries;

/// <summary>The example notice and key set in docs/deliveries.md are real: a clearing house may test its tooling against them.</summary>
public sealed class DocumentedExampleTests
{
    [Fact]
    public void The_documented_notice_verifies_against_the_documented_key_set()
    {
        var lines = File.ReadAllLines(Path.Combine(RepoRoot.Path, "docs", "deliveries.md"));
        var jws = Assert.Single(lines, l => l.StartsWith("eyJ", StringComparison.Ordinal));
        var jwks = Assert.Single(lines, l => l.StartsWith("{\"keys\"", StringComparison.Ordinal));
        var catalog = ContractCatalog.LoadFolder(Path.Combine(RepoRoot.Path, "contracts"));

        var result = new DeliveryVerifier(new JsonWebKeySet(jwks)).Verify(jws, catalog, new DateTimeOffset(2026, 11, 1, 0, 0, 0, TimeSpan.Zero));

        Assert.True(result.IsValid, result.Message);
        Assert.Equal("dlv-2026q4-000184", result.Notice!.DeliveryId);
        Assert.Equal(250_000_000_000, result.Notice.QuantityMicro);
        Assert.Contains($"`{result.Notice.PayloadSha256}`", string.Join('\n', lines), StringComparison.Ordinal);
    }
}
