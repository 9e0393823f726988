using MeterAgent.Attestation.Witnesses;
using MeterAgent.Log;
using MeterAgent.Log.Witnesses;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace MeterAgent.Tests.Log;

/// <summary>Attestation:Witnesses: registered only when configured, and a bad entry stops start-up naming it.</summary>
public sealed class WitnessRegistrationTests
{
    private static ServiceProvider Services(Dictionary<string, string?> settings)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var services = new ServiceCollection().AddLogging().AddSingleton<IConfiguration>(configuration);
        services.AddWitnesses(configuration);
        return services.BuildServiceProvider();
    }

    [Fact]
    public void Without_witnesses_nothing_replaces_the_logs_default()
    {
        using var services = Services([]);

        Assert.Null(services.GetService<ICheckpointWitnesses>());
        Assert.Equal(TimeSpan.FromSeconds(5), services.GetRequiredService<IOptions<WitnessOptions>>().Value.WitnessTimeout);
    }

    [Fact]
    public void With_witnesses_the_client_is_the_logs_witnesses()
    {
        using var services = Services(new()
        {
            ["Attestation:Witnesses:0:Url"] = "http://127.0.0.1:7380",
            ["Attestation:Witnesses:0:VerifierKey"] = CosignatureV1.GenerateKey("witness.test/w1").VerifierKey,
            ["Attestation:WitnessTimeout"] = "00:00:02",
        });

        Assert.IsType<WitnessClient>(services.GetRequiredService<ICheckpointWitnesses>());
        Assert.Equal(TimeSpan.FromSeconds(2), services.GetRequiredService<IOptions<WitnessOptions>>().Value.WitnessTimeout);
    }

    [Fact]
    public void A_bad_witness_is_refused_naming_the_setting()
    {
        var logKey = Attestation.Notes.NoteKeyPair.Generate("meteragent.test/log").VerifierKey;
        using var services = Services(new()
        {
            ["Attestation:Witnesses:0:Url"] = "http://127.0.0.1:7380",
            ["Attestation:Witnesses:0:VerifierKey"] = logKey,
            ["Attestation:Witnesses:1:Url"] = "ftp://witness.example",
            ["Attestation:Witnesses:1:VerifierKey"] = CosignatureV1.GenerateKey("witness.test/w2").VerifierKey,
            ["Attestation:WitnessTimeout"] = "00:00:00",
        });

        var error = Assert.Throws<OptionsValidationException>(() => services.GetRequiredService<IOptions<WitnessOptions>>().Value);

        Assert.Contains("Attestation:Witnesses:0:VerifierKey is not a witness's cosigner key", error.Message, StringComparison.Ordinal);
        Assert.Contains("Attestation:Witnesses:1:Url must be an absolute http or https URL", error.Message, StringComparison.Ordinal);
        Assert.Contains("Attestation:WitnessTimeout must be positive", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("PRIVATE", error.Message, StringComparison.Ordinal);
    }
}
