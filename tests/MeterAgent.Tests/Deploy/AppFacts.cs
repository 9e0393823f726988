using System.Text.Json;
using System.Xml.Linq;
using MeterAgent.Common;

namespace MeterAgent.Tests.Deploy;

/// <summary>What the deployment files must agree with, read from the app itself rather than written down again.</summary>
internal static class AppFacts
{
    public static string AgentProject => Path.Combine(RepoRoot.Path, "src", "MeterAgent", "MeterAgent.csproj");

    /// <summary>MeterAgent:ProxyPort as shipped: appsettings.json, which must agree with the options' default.</summary>
    public static int ProxyPort => Port(nameof(MeterAgentOptions.ProxyPort), new MeterAgentOptions().ProxyPort);

    /// <summary>MeterAgent:ManagementPort as shipped.</summary>
    public static int ManagementPort => Port(nameof(MeterAgentOptions.ManagementPort), new MeterAgentOptions().ManagementPort);

    /// <summary>The published entry assembly: the project's AssemblyName, or its file name.</summary>
    public static string EntryAssembly =>
        (XDocument.Load(AgentProject).Descendants("AssemblyName").FirstOrDefault()?.Value ?? Path.GetFileNameWithoutExtension(AgentProject)) + ".dll";

    private static int Port(string name, int optionsDefault)
    {
        using var settings = JsonDocument.Parse(File.ReadAllText(Path.Combine(RepoRoot.Path, "src", "MeterAgent", "appsettings.json")));
        var shipped = settings.RootElement.GetProperty(MeterAgentOptions.Section).GetProperty(name).GetInt32();
        Assert.Equal(optionsDefault, shipped);
        return shipped;
    }
}
