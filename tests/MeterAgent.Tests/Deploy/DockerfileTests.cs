using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;

namespace MeterAgent.Tests.Deploy;

/// <summary>
/// deploy/docker/Dockerfile against the app: a non-root user, the app's own ports exposed and labelled, a health check
/// that really answers against a running agent, and the published assembly as the entry point. No Docker daemon runs
/// here, so the image itself is not built: these are the facts a build would get wrong silently.
/// </summary>
public sealed partial class DockerfileTests
{
    private readonly Dockerfile _file = Dockerfile.Load();

    private List<(string Instruction, string Arguments)> Final => _file.Final;

    private string Last(string instruction) => Final.Last(l => l.Instruction == instruction).Arguments;

    [Fact]
    public void The_image_builds_in_the_sdk_and_runs_on_the_aspnet_runtime()
    {
        Assert.StartsWith("mcr.microsoft.com/dotnet/sdk:", _file.Stages[0].Lines[0].Arguments.Replace("${DOTNET_VERSION}", "10.0", StringComparison.Ordinal), StringComparison.Ordinal);
        Assert.Matches(@"^mcr\.microsoft\.com/dotnet/aspnet:\$\{DOTNET_VERSION\}", Final[0].Arguments);
        Assert.Equal("agent", _file.Stages[^1].Name);
    }

    [Fact]
    public void The_agent_runs_as_a_numeric_non_root_user()
    {
        var user = Last("USER").Split(':');
        Assert.True(int.TryParse(user[0], NumberStyles.None, CultureInfo.InvariantCulture, out var uid), $"USER {user[0]} is not numeric: runAsNonRoot cannot check a name");
        Assert.NotEqual(0, uid);
        Assert.True(user.Length == 1 || user[1] != "0", "the group is root");

        // The user is set before the entry point, and nothing after it switches back.
        var userAt = Final.FindLastIndex(l => l.Instruction == "USER");
        Assert.True(userAt < Final.FindIndex(l => l.Instruction == "ENTRYPOINT"));
    }

    [Fact]
    public void Exposed_ports_and_labels_are_the_apps_default_ports_and_it_listens_on_every_address()
    {
        var exposed = Final.Where(l => l.Instruction == "EXPOSE").SelectMany(l => l.Arguments.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Select(p => int.Parse(p.Split('/')[0], CultureInfo.InvariantCulture)).Order().ToList();
        Assert.Equal(new[] { AppFacts.ProxyPort, AppFacts.ManagementPort }.Order(), exposed);

        var labels = Dockerfile.Pairs(Final, "LABEL");
        Assert.Equal(AppFacts.ProxyPort.ToString(CultureInfo.InvariantCulture), labels["io.meteragent.port.proxy"]);
        Assert.Equal(AppFacts.ManagementPort.ToString(CultureInfo.InvariantCulture), labels["io.meteragent.port.management"]);

        var env = Dockerfile.Pairs(Final, "ENV");
        Assert.Equal("0.0.0.0", env["MeterAgent__ListenAddress"]);
        Assert.Equal(AppFacts.ProxyPort.ToString(CultureInfo.InvariantCulture), env["MeterAgent__ProxyPort"]);
        Assert.Equal(AppFacts.ManagementPort.ToString(CultureInfo.InvariantCulture), env["MeterAgent__ManagementPort"]);

        // The hot path is compiled fully as soon as it is hot, not seconds into the load (docs/benchmarks.md, "Warm-up").
        Assert.Equal("0", env["DOTNET_TC_CallCountingDelayMs"]);
    }

    [Fact]
    public void Every_environment_setting_is_a_configuration_key_the_app_reads()
    {
        var problems = Dockerfile.Pairs(Final, "ENV").Keys.Select(ConfigurationKeys.Problem).OfType<string>().ToList();
        Assert.True(problems.Count == 0, string.Join('\n', problems));
    }

    [Fact]
    public void The_store_is_on_the_declared_volume_and_the_temp_folder_is_named()
    {
        var env = Dockerfile.Pairs(Final, "ENV");
        var volumes = Final.Where(l => l.Instruction == "VOLUME").SelectMany(l => Dockerfile.JsonArray(l.Arguments)).ToList();
        var storeFolder = Path.GetDirectoryName(env["Store__Path"])!;
        Assert.Contains(storeFolder, volumes);
        Assert.Equal(storeFolder, Dockerfile.Pairs(Final, "LABEL")["io.meteragent.store"]);
        Assert.Equal("/tmp", env["TMPDIR"]);

        // The folder is made and handed to the app user before the switch: a fresh volume takes the image's owner.
        var uid = Last("USER").Split(':')[0];
        Assert.Contains(Final, l => l.Instruction == "RUN" && l.Arguments.Contains($"chown {uid}", StringComparison.Ordinal) && l.Arguments.Contains(storeFolder, StringComparison.Ordinal));
    }

    [Fact]
    public void The_entry_point_runs_the_published_agent_assembly()
    {
        var entry = Dockerfile.JsonArray(Last("ENTRYPOINT"));
        var workdir = Last("WORKDIR");
        Assert.Equal(["dotnet", $"{workdir}/{AppFacts.EntryAssembly}"], entry);

        // What is copied into WORKDIR is the output of publishing the agent's project.
        var copy = PublishCopy().Match(Final.Single(l => l.Instruction == "COPY").Arguments);
        Assert.True(copy.Success, "the final stage copies the published output from the build stage");
        var project = Path.GetRelativePath(RepoRoot.Path, AppFacts.AgentProject).Replace('\\', '/');
        var build = _file.Stages[0].Lines;
        Assert.Contains(build, l => l.Instruction == "RUN" && l.Arguments.Contains($"dotnet publish {project} ", StringComparison.Ordinal)
            && l.Arguments.Contains($"-o {copy.Groups["from"].Value.TrimEnd('/')} ", StringComparison.Ordinal));
    }

    [Fact]
    public void Every_file_the_build_copies_exists_and_is_not_ignored()
    {
        var ignored = File.ReadAllLines(Path.Combine(RepoRoot.Path, ".dockerignore"))
            .Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith('#')).Select(l => l.TrimEnd('/')).ToHashSet(StringComparer.Ordinal);
        foreach (var (_, arguments) in _file.Stages[0].Lines.Where(l => l.Instruction == "COPY"))
        {
            var parts = arguments.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            foreach (var source in parts[..^1])
            {
                Assert.True(File.Exists(Path.Combine(RepoRoot.Path, source)) || Directory.Exists(Path.Combine(RepoRoot.Path, source)), $"COPY {source}: no such file");
                Assert.DoesNotContain(source.Split('/')[0], ignored);
            }
        }

        // Every project the agent is built from has its project file copied for the restore layer.
        foreach (var project in Directory.GetFiles(Path.Combine(RepoRoot.Path, "src"), "*.csproj", SearchOption.AllDirectories))
        {
            var relative = Path.GetRelativePath(RepoRoot.Path, project).Replace('\\', '/');
            Assert.Contains(_file.Stages[0].Lines, l => l.Instruction == "COPY" && l.Arguments.StartsWith(relative + " ", StringComparison.Ordinal));
        }
    }

    [SkippableFact]
    public async Task The_health_check_command_passes_against_a_running_agent_and_fails_against_a_closed_port()
    {
        Prerequisite.Require(DeployTools.OnPath("bash"), "bash is not installed");
        var command = HealthCheckCommand();
        Assert.Contains(HealthEndpointTests.ReadyPath, command[^1], StringComparison.Ordinal);

        await using var agent = await TestAgent.StartAsync();
        var port = new Uri(agent.ManagementUrl).Port.ToString(CultureInfo.InvariantCulture);
        var healthy = DeployTools.Run(command[0], command[1..], environment: new Dictionary<string, string> { ["MeterAgent__ManagementPort"] = port });
        Assert.True(healthy.ExitCode == 0, $"the health check failed against a ready agent: {healthy.Error}");

        var closed = FreePort.Next().ToString(CultureInfo.InvariantCulture);
        var down = DeployTools.Run(command[0], command[1..], environment: new Dictionary<string, string> { ["MeterAgent__ManagementPort"] = closed });
        Assert.NotEqual(0, down.ExitCode);

        // The proxy port does not serve health: a check pointed there would fail, as it should.
        var proxyPort = new Uri(agent.ProxyUrl).Port.ToString(CultureInfo.InvariantCulture);
        var wrong = DeployTools.Run(command[0], command[1..], environment: new Dictionary<string, string> { ["MeterAgent__ManagementPort"] = proxyPort });
        Assert.NotEqual(0, wrong.ExitCode);
        Assert.Equal(HttpStatusCode.OK, (await agent.Admin.GetAsync(HealthEndpointTests.ReadyPath.TrimStart('/'))).StatusCode);
    }

    /// <summary>The HEALTHCHECK's CMD, exec form.</summary>
    private List<string> HealthCheckCommand()
    {
        var match = HealthCmd().Match(Last("HEALTHCHECK"));
        Assert.True(match.Success, "HEALTHCHECK has an exec-form CMD");
        return Dockerfile.JsonArray(match.Groups["json"].Value);
    }

    [GeneratedRegex(@"CMD\s+(?<json>\[.*\])\s*$")]
    private static partial Regex HealthCmd();

    [GeneratedRegex(@"^--from=build\s+(?<from>\S+)\s+\./?$")]
    private static partial Regex PublishCopy();
}
