using MeterAgent.Emulator;
using MeterAgent.Hosting;
using MeterAgent.Tests.Deploy;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace MeterAgent.Tests.Hosting;

/// <summary>
/// The configuration check validates what it finds registered: every options class the agent binds (as the deployment
/// key checker knows them) must come with a validator, or a bad value in its section would pass the check unnamed.
/// </summary>
public sealed class ConfigurationCheckCoverageTests
{
    [Theory]
    [InlineData("sqlite")]
    [InlineData("redis")]
    public void Every_options_class_the_agent_binds_is_validated(string kind)
    {
        using var folder = new TempFolder();
        var settings = new Dictionary<string, string?>
        {
            ["Store:Kind"] = kind,
            ["Store:Path"] = folder.DbPath,
            ["Redis:ConnectionString"] = "127.0.0.1:1",
        };

        // Built, not wired: nothing connects to the (absent) Redis.
        using var app = MeterAgentHost.Build([], builder => builder.AddInMemoryCollection(settings), null, _ => false);
        var validated = app.Services.GetRequiredService<ConfigurationCheck>().ValidatedOptions;
        var expected = ConfigurationKeys.OptionsClasses
            .Where(type => type != typeof(EmulatorOptions))
            .Where(type => kind == "redis" || !type.Namespace!.StartsWith("MeterAgent.Ledger.Redis", StringComparison.Ordinal));
        Assert.All(expected, type => Assert.Contains(type, validated));
    }
}
