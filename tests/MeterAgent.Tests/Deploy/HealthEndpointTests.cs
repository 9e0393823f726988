using System.Net;

namespace MeterAgent.Tests.Deploy;

/// <summary>
/// The health paths every deployment file probes are the agent's: a running agent answers them on its management port,
/// and not on its client port. The file tests check their probes against these two paths.
/// </summary>
public sealed class HealthEndpointTests
{
    public const string LivePath = "/healthz/live";

    public const string ReadyPath = "/healthz/ready";

    public static readonly string[] Paths = [LivePath, ReadyPath];

    [Fact]
    public async Task Live_and_ready_answer_200_on_the_management_port_only()
    {
        await using var agent = await TestAgent.StartAsync();
        using var proxy = new HttpClient { BaseAddress = new Uri(agent.ProxyUrl) };
        foreach (var path in Paths)
        {
            Assert.Equal(HttpStatusCode.OK, (await agent.Admin.GetAsync(path.TrimStart('/'))).StatusCode);
            Assert.Equal(HttpStatusCode.NotFound, (await proxy.GetAsync(path.TrimStart('/'))).StatusCode);
        }
    }
}
