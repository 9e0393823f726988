using MeterAgent.Hosting;
using MeterAgent.Shutdown;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace MeterAgent.Tests.Deploy;

/// <summary>
/// The deployment files set MeterAgent__DrainTimeout and size their grace periods on it: the host's shutdown timeout
/// must cover the drain and the flush after it, whatever the host would take by default, and keep a longer one.
/// </summary>
public sealed class ShutdownTimeoutTests
{
    [Theory]
    [InlineData(null, null, 90)]
    [InlineData("00:02:00", null, 150)]
    [InlineData("00:00:00", null, 30)]
    [InlineData("00:00:10", "300", 300)]
    [InlineData("not a time", null, 90)]
    public async Task The_host_waits_for_the_drain_and_the_flush_or_longer(string? drainTimeout, string? shutdownTimeoutSeconds, int expectedSeconds)
    {
        using var folder = new TempFolder();
        var settings = new Dictionary<string, string?>
        {
            [ShutdownOptions.DrainTimeoutKey] = drainTimeout,
            ["SHUTDOWNTIMEOUTSECONDS"] = shutdownTimeoutSeconds,
            ["Store:Path"] = folder.DbPath,
        };
        await using var app = MeterAgentHost.Build([], builder => builder.AddInMemoryCollection(settings));
        Assert.Equal(TimeSpan.FromSeconds(expectedSeconds), app.Services.GetRequiredService<IOptions<HostOptions>>().Value.ShutdownTimeout);
        Assert.Null(ConfigurationKeys.Problem("MeterAgent__DrainTimeout"));
        Assert.Null(ConfigurationKeys.Problem("DOTNET_SHUTDOWNTIMEOUTSECONDS"));
    }
}
