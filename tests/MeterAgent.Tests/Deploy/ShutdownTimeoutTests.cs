using MeterAgent.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace MeterAgent.Tests.Deploy;

/// <summary>
/// The deployment files give streams in flight time to finish with DOTNET_SHUTDOWNTIMEOUTSECONDS (the environment
/// provider strips the DOTNET_ prefix), and size terminationGracePeriodSeconds on it: the agent's host must read it.
/// </summary>
public sealed class ShutdownTimeoutTests
{
    [Fact]
    public async Task The_host_takes_its_shutdown_timeout_from_SHUTDOWNTIMEOUTSECONDS()
    {
        using var folder = new TempFolder();
        var settings = new Dictionary<string, string?>
        {
            ["SHUTDOWNTIMEOUTSECONDS"] = "77",
            ["Store:Path"] = folder.DbPath,
        };
        await using var app = MeterAgentHost.Build([], builder => builder.AddInMemoryCollection(settings));
        Assert.Equal(TimeSpan.FromSeconds(77), app.Services.GetRequiredService<IOptions<HostOptions>>().Value.ShutdownTimeout);
        Assert.Null(ConfigurationKeys.Problem("DOTNET_SHUTDOWNTIMEOUTSECONDS"));
    }
}
