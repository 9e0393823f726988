using YamlDotNet.RepresentationModel;

namespace MeterAgent.Tests.Deploy;

/// <summary>
/// deploy/compose/compose.yaml as a file (no Docker daemon runs here): it parses, everything it mounts or builds from
/// exists, every setting it passes is one the agent or the emulator reads, the agents share Redis and the log key but
/// not a replica id, and Prometheus scrapes every agent under the job the alert rules expect.
/// </summary>
public sealed class ComposeFileTests
{
    private static readonly string Folder = Path.Combine(RepoRoot.Path, "deploy", "compose");

    private readonly YamlMappingNode _compose = DeployTools.Load(Path.Combine(Folder, "compose.yaml"));

    private Dictionary<string, YamlNode> Services => _compose.Get("services").Entries().ToDictionary(e => e.Key, e => e.Value);

    private List<(string Name, YamlNode Service)> Agents =>
        Services.Where(s => s.Value.Text("build", "target") is null && s.Value.Text("build", "dockerfile") is not null).Select(s => (s.Key, s.Value)).ToList();

    private static Dictionary<string, string> Environment(YamlNode service) =>
        service.Get("environment").Entries().ToDictionary(e => e.Key, e => e.Value.ToString(), StringComparer.Ordinal);

    [Fact]
    public void Two_agents_in_distributed_mode_share_Redis_and_the_log_key_under_distinct_replica_ids()
    {
        var agents = Agents;
        Assert.Equal(2, agents.Count);
        var environments = agents.Select(a => Environment(a.Service)).ToList();
        Assert.All(environments, e => Assert.Equal("redis", e["Store__Kind"]));
        Assert.Single(environments.Select(e => e["Redis__ConnectionString"]).Distinct());
        Assert.Single(environments.Select(e => e["Attestation__SigningKeyPath"]).Distinct());
        Assert.Equal(2, environments.Select(e => e["Redis__ReplicaId"]).Distinct().Count());

        // Each agent keeps its local store on its own volume, and the shared key comes from one read-only volume.
        var volumes = agents.Select(a => a.Service.Items("volumes").Select(v => v.ToString()).ToList()).ToList();
        Assert.Equal(2, volumes.Select(v => v.Single(m => m.EndsWith(":/var/lib/meteragent", StringComparison.Ordinal))).Distinct().Count());
        var keyFolder = Path.GetDirectoryName(environments[0]["Attestation__SigningKeyPath"])!;
        Assert.All(volumes, v => Assert.Single(v, m => m.EndsWith($":{keyFolder}:ro", StringComparison.Ordinal)));
        Assert.All(agents, a => Assert.Equal("true", a.Service.Text("read_only")));
    }

    [Fact]
    public void Redis_runs_with_the_append_only_file_on()
    {
        var command = Services["redis"].Items("command").Select(n => n.ToString()).ToList();
        Assert.Equal("yes", command[command.IndexOf("--appendonly") + 1]);
        Assert.Contains(Services["redis"].Items("volumes"), v => v.ToString().EndsWith(":/data", StringComparison.Ordinal));
    }

    [Fact]
    public void The_agents_upstream_is_the_emulator_and_its_key_is_the_one_the_emulator_requires()
    {
        var emulator = Services.Single(s => s.Value.Text("build", "target") == "emulator");
        var required = Environment(emulator.Value)["Emulator__RequiredApiKey"];
        foreach (var (_, agent) in Agents)
        {
            var environment = Environment(agent);
            Assert.Equal($"http://{emulator.Key}:5001/", environment["ReverseProxy__Clusters__openai__Destinations__primary__Address"]);
            Assert.Equal($"http://{emulator.Key}:5001/", environment["ReverseProxy__Clusters__anthropic__Destinations__primary__Address"]);
            Assert.Equal(required, environment["MeterAgent__Upstreams__openai__ApiKey"]);
        }

        Assert.Contains("5001", Dockerfile.Load().Stages.Single(s => s.Name == "emulator").Lines.Single(l => l.Instruction == "EXPOSE").Arguments, StringComparison.Ordinal);
    }

    [Fact]
    public void Every_setting_passed_is_a_configuration_key_the_agent_or_the_emulator_reads()
    {
        var problems = Services.Values.Where(s => s.Text("build", "dockerfile") is not null)
            .SelectMany(s => Environment(s).Keys).Select(ConfigurationKeys.Problem).OfType<string>().ToList();
        Assert.True(problems.Count == 0, string.Join('\n', problems));
    }

    [Fact]
    public void Every_file_it_builds_from_or_mounts_exists()
    {
        var missing = new List<string>();
        foreach (var (name, service) in Services)
        {
            if (service.Get("build") is { } build)
            {
                var context = Path.GetFullPath(Path.Combine(Folder, build.Text("context")!));
                if (!File.Exists(Path.Combine(context, build.Text("dockerfile")!)))
                {
                    missing.Add($"{name}: build {build.Text("dockerfile")}");
                }
            }

            foreach (var mount in service.Items("volumes").Select(v => v.ToString()).Where(v => v.StartsWith('.')))
            {
                var source = Path.GetFullPath(Path.Combine(Folder, mount.Split(':')[0]));
                if (!File.Exists(source) && !Directory.Exists(source))
                {
                    missing.Add($"{name}: {mount}");
                }
            }
        }

        Assert.True(missing.Count == 0, "missing: " + string.Join(", ", missing));

        // Named volumes are declared.
        var declared = _compose.Get("volumes").Entries().Select(e => e.Key).ToHashSet(StringComparer.Ordinal);
        var named = Services.Values.SelectMany(s => s.Items("volumes")).Select(v => v.ToString().Split(':')[0]).Where(v => !v.StartsWith('.') && !v.StartsWith('/'));
        Assert.All(named, v => Assert.Contains(v, declared));
    }

    [Fact]
    public void Prometheus_loads_the_alert_rules_and_scrapes_every_agent_as_job_meteragent()
    {
        var prometheus = Services["prometheus"];
        var mounts = prometheus.Items("volumes").Select(v => v.ToString().Split(':')).ToDictionary(m => m[1], m => Path.GetFullPath(Path.Combine(Folder, m[0])));
        var config = DeployTools.Load(mounts["/etc/prometheus/prometheus.yml"]);

        var ruleFile = config.Items("rule_files").Single().ToString();
        Assert.Equal(Promtool.RulesFile, mounts[ruleFile]);

        var job = config.Items("scrape_configs").Single(j => j.Text("job_name") == "meteragent");
        var targets = job.Items("static_configs").SelectMany(c => c.Items("targets")).Select(t => t.ToString()).Order(StringComparer.Ordinal);
        Assert.Equal(Agents.Select(a => $"{a.Name}:{AppFacts.ManagementPort}").Order(StringComparer.Ordinal), targets);
        Assert.Equal("/metrics", job.Text("metrics_path"));
    }

    [Fact]
    public void Grafana_is_provisioned_with_the_Prometheus_datasource_and_every_dashboard()
    {
        var grafana = Services["grafana"];
        var mounts = grafana.Items("volumes").Select(v => v.ToString().Split(':')).Where(m => m[0].StartsWith('.'))
            .ToDictionary(m => m[1], m => Path.GetFullPath(Path.Combine(Folder, m[0])));

        var datasources = DeployTools.Load(Path.Combine(mounts["/etc/grafana/provisioning/datasources"], "prometheus.yaml"));
        var datasource = datasources.Items("datasources").Single();
        Assert.Equal("prometheus", datasource.Text("type"));
        Assert.Equal("http://prometheus:9090", datasource.Text("url"));

        var providers = DeployTools.Load(Path.Combine(mounts["/etc/grafana/provisioning/dashboards"], "meteragent.yaml"));
        var dashboardPath = providers.Items("providers").Single().Text("options", "path")!;
        Assert.Equal(Path.Combine(RepoRoot.Path, "dashboards"), mounts[dashboardPath]);
        Assert.NotEmpty(Directory.GetFiles(mounts[dashboardPath], "*.json"));
    }
}
