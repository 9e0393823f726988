using System.Globalization;
using MeterAgent.Shutdown;
using YamlDotNet.RepresentationModel;

namespace MeterAgent.Tests.Deploy;

/// <summary>
/// deploy/kubernetes: each overlay renders with `kubectl kustomize`, every object validates against the Kubernetes
/// OpenAPI schemas (kubernetes-models), and the workload is what the README promises: hardened, probed on the agent's
/// health paths, on the app's ports, with settings the app reads and secrets referenced, never inlined.
/// </summary>
public sealed class KustomizeTests
{
    public static TheoryData<string> Overlays => new() { "single-node", "distributed" };

    private static string Folder(string overlay) => Path.Combine(RepoRoot.Path, "deploy", "kubernetes", "overlays", overlay);

    private static List<YamlMappingNode> Render(string overlay)
    {
        DeployTools.RequireKubectl();
        return DeployTools.LoadAll(DeployTools.Kustomize(Folder(overlay)));
    }

    private static YamlMappingNode Workload(List<YamlMappingNode> objects) =>
        objects.Single(o => o.Text("kind") is "Deployment" or "StatefulSet");

    private static YamlMappingNode Container(YamlMappingNode workload) =>
        (YamlMappingNode)workload.Items("spec", "template", "spec", "containers").Single();

    [SkippableTheory]
    [MemberData(nameof(Overlays))]
    public void Every_rendered_object_validates_against_the_Kubernetes_schemas(string overlay)
    {
        DeployTools.RequireKubectl();
        DeployTools.RequireNodeValidators();
        var output = DeployTools.Validate("validate-k8s.mjs", [], DeployTools.Kustomize(Folder(overlay)));
        foreach (var kind in new[] { "ServiceAccount", "ConfigMap", "Service", "PodDisruptionBudget", "NetworkPolicy" })
        {
            Assert.Contains($"ok {kind}/", output, StringComparison.Ordinal);
        }
    }

    [SkippableTheory]
    [MemberData(nameof(Overlays))]
    public void The_pod_is_hardened_probed_and_given_time_to_drain(string overlay)
    {
        var workload = Workload(Render(overlay));
        var pod = workload.Get("spec", "template", "spec");
        var container = Container(workload);
        var security = container.Get("securityContext");
        Assert.Equal("true", security.Text("runAsNonRoot"));
        Assert.Equal("true", security.Text("readOnlyRootFilesystem"));
        Assert.Equal("false", security.Text("allowPrivilegeEscalation"));
        Assert.Equal(["ALL"], security.Items("capabilities", "drop").Select(n => n.ToString()));
        Assert.Equal("RuntimeDefault", pod.Text("securityContext", "seccompProfile", "type"));
        Assert.Equal("true", pod.Text("securityContext", "runAsNonRoot"));
        Assert.Equal("false", pod.Text("automountServiceAccountToken"));

        // The UID is the image's user.
        Assert.Equal(Dockerfile.Load().Final.Last(l => l.Instruction == "USER").Arguments.Split(':')[0], security.Text("runAsUser"));

        Assert.Equal(HealthEndpointTests.LivePath, container.Text("livenessProbe", "httpGet", "path"));
        Assert.Equal(HealthEndpointTests.ReadyPath, container.Text("readinessProbe", "httpGet", "path"));
        Assert.Contains(container.Text("startupProbe", "httpGet", "path"), HealthEndpointTests.Paths);
        foreach (var probe in new[] { "livenessProbe", "readinessProbe", "startupProbe" })
        {
            Assert.Equal("management", container.Text(probe, "httpGet", "port"));
        }

        // The grace period covers the preStop pause, the agent's drain time and its flush after it.
        var preStop = container.Items("lifecycle", "preStop", "exec", "command").Select(n => n.ToString()).ToList();
        Assert.Equal("sleep", preStop[0]);
        var settings = Settings(Render(overlay));
        var stop = TimeSpan.FromSeconds(int.Parse(preStop[1], CultureInfo.InvariantCulture))
            + TimeSpan.Parse(settings["MeterAgent__DrainTimeout"], CultureInfo.InvariantCulture) + ShutdownOptions.FlushMargin;
        Assert.True(TimeSpan.FromSeconds(int.Parse(pod.Text("terminationGracePeriodSeconds")!, CultureInfo.InvariantCulture)) > stop);

        Assert.NotNull(container.Text("resources", "requests", "cpu"));
        Assert.NotNull(container.Text("resources", "limits", "memory"));

        // Writable: the store's folder and /tmp, nothing else (the root file system is read-only).
        var mounts = container.Items("volumeMounts").ToDictionary(m => m.Text("mountPath")!, m => m.Text("readOnly") == "true");
        Assert.Equal(["/tmp", Path.GetDirectoryName(settings["Store__Path"])!], mounts.Where(m => !m.Value).Select(m => m.Key).Order(StringComparer.Ordinal));
    }

    [SkippableTheory]
    [MemberData(nameof(Overlays))]
    public void Ports_services_and_network_policy_follow_the_apps_ports(string overlay)
    {
        var objects = Render(overlay);
        var container = Container(Workload(objects));
        var ports = container.Items("ports").ToDictionary(p => p.Text("name")!, p => int.Parse(p.Text("containerPort")!, CultureInfo.InvariantCulture));
        var settings = Settings(objects);
        Assert.Equal(AppFacts.ProxyPort, ports["proxy"]);
        Assert.Equal(AppFacts.ManagementPort, ports["management"]);
        Assert.Equal(ports["proxy"].ToString(CultureInfo.InvariantCulture), settings["MeterAgent__ProxyPort"]);
        Assert.Equal(ports["management"].ToString(CultureInfo.InvariantCulture), settings["MeterAgent__ManagementPort"]);
        Assert.Equal("0.0.0.0", settings["MeterAgent__ListenAddress"]);

        var services = objects.Where(o => o.Text("kind") == "Service" && o.Text("spec", "clusterIP") != "None").ToList();
        Assert.Equal(["management", "proxy"], services.Select(s => s.Items("spec", "ports").Single().Text("targetPort")).Order(StringComparer.Ordinal));

        // The management port is admitted only from the labelled namespaces; the proxy port from anywhere.
        var rules = objects.Single(o => o.Text("kind") == "NetworkPolicy").Items("spec", "ingress").ToList();
        var management = rules.Single(r => r.Items("ports").Any(p => p.Text("port") == "management"));
        Assert.Equal(
            ["meteragent.io/clearing", "meteragent.io/monitoring"],
            management.Items("from").Select(f => ((YamlMappingNode)f.Get("namespaceSelector", "matchLabels")!).Children.Keys.Single().ToString()).Order(StringComparer.Ordinal));
        Assert.All(management.Items("from"), f => Assert.Null(f.Get("podSelector")));
        var proxy = rules.Single(r => r.Items("ports").Any(p => p.Text("port") == "proxy"));
        Assert.Null(proxy.Get("from"));
    }

    [SkippableTheory]
    [MemberData(nameof(Overlays))]
    public void Every_setting_is_a_configuration_key_the_app_reads_and_secrets_are_only_referenced(string overlay)
    {
        var objects = Render(overlay);
        var container = Container(Workload(objects));
        var names = Settings(objects).Keys.Concat(container.Items("env").Select(e => e.Text("name")!)).ToList();
        var problems = names.Select(ConfigurationKeys.Problem).OfType<string>().ToList();
        Assert.True(problems.Count == 0, string.Join('\n', problems));

        // Tokens, keys and connection strings come from Secrets by reference; no Secret object is rendered.
        Assert.DoesNotContain(objects, o => o.Text("kind") == "Secret");
        foreach (var secret in new[] { "MeterAgent__AdminToken", "Attestation__ReadToken", "MeterAgent__Upstreams__openai__ApiKey", "MeterAgent__Upstreams__anthropic__ApiKey" })
        {
            var env = container.Items("env").Single(e => e.Text("name") == secret);
            Assert.NotNull(env.Get("valueFrom", "secretKeyRef", "name"));
        }

        Assert.DoesNotContain(Settings(objects).Keys, k => k.Contains("Token", StringComparison.Ordinal) || k.EndsWith("ApiKey", StringComparison.Ordinal));
        var keyVolume = Workload(objects).Items("spec", "template", "spec", "volumes").Single(v => v.Get("secret") is not null);
        var keyMount = container.Items("volumeMounts").Single(m => m.Text("name") == keyVolume.Text("name"));
        Assert.Equal(Settings(objects)["Attestation__SigningKeyPath"], $"{keyMount.Text("mountPath")}/{keyVolume.Items("secret", "items").Single().Text("path")}");
    }

    [SkippableFact]
    public void Single_node_is_one_StatefulSet_replica_with_its_SQLite_store_on_a_claim()
    {
        var objects = Render("single-node");
        var workload = Workload(objects);
        Assert.Equal("StatefulSet", workload.Text("kind"));
        Assert.Equal("1", workload.Text("spec", "replicas"));
        Assert.Equal("store", workload.Items("spec", "volumeClaimTemplates").Single().Text("metadata", "name"));
        Assert.DoesNotContain(workload.Items("spec", "template", "spec", "volumes"), v => v.Text("name") == "store");
        Assert.Contains(objects, o => o.Text("kind") == "Service" && o.Text("metadata", "name") == workload.Text("spec", "serviceName"));
        Assert.True(Settings(objects).GetValueOrDefault("Store__Kind", "sqlite") == "sqlite");
        Assert.DoesNotContain(objects, o => o.Text("kind") == "HorizontalPodAutoscaler");
    }

    [SkippableFact]
    public void Distributed_runs_replicas_on_Redis_with_the_pod_name_as_replica_id_and_an_HPA_on_CPU()
    {
        var objects = Render("distributed");
        var workload = Workload(objects);
        var settings = Settings(objects);
        Assert.Equal("redis", settings["Store__Kind"]);
        Assert.True(int.Parse(workload.Text("spec", "replicas")!, CultureInfo.InvariantCulture) > 1);
        var env = Container(workload).Items("env").ToList();
        Assert.Equal("metadata.name", env.Single(e => e.Text("name") == "Redis__ReplicaId").Text("valueFrom", "fieldRef", "fieldPath"));
        Assert.NotNull(env.Single(e => e.Text("name") == "Redis__ConnectionString").Get("valueFrom", "secretKeyRef"));

        var hpa = objects.Single(o => o.Text("kind") == "HorizontalPodAutoscaler");
        Assert.Equal(workload.Text("kind"), hpa.Text("spec", "scaleTargetRef", "kind"));
        Assert.Equal(workload.Text("metadata", "name"), hpa.Text("spec", "scaleTargetRef", "name"));
        Assert.Equal("cpu", hpa.Items("spec", "metrics").Single().Text("resource", "name"));
        Assert.Equal(workload.Text("spec", "replicas"), hpa.Text("spec", "minReplicas"));
    }

    [Fact]
    public void The_bases_contract_specs_are_the_repositorys()
    {
        var repo = Directory.GetFiles(Path.Combine(RepoRoot.Path, "contracts"), "*.json").Order(StringComparer.Ordinal).ToList();
        var copies = Directory.GetFiles(Path.Combine(RepoRoot.Path, "deploy", "kubernetes", "base", "contracts"), "*.json").Order(StringComparer.Ordinal).ToList();
        Assert.Equal(repo.Select(Path.GetFileName), copies.Select(Path.GetFileName));
        foreach (var (original, copy) in repo.Zip(copies))
        {
            Assert.True(File.ReadAllBytes(original).AsSpan().SequenceEqual(File.ReadAllBytes(copy)), $"{copy} differs from {original}: copy it again");
        }
    }

    /// <summary>The settings ConfigMap the workload reads through envFrom.</summary>
    private static Dictionary<string, string> Settings(List<YamlMappingNode> objects)
    {
        var name = Container(Workload(objects)).Items("envFrom").Single().Text("configMapRef", "name");
        var map = objects.Single(o => o.Text("kind") == "ConfigMap" && o.Text("metadata", "name") == name);
        return map.Get("data").Entries().ToDictionary(e => e.Key, e => e.Value.ToString(), StringComparer.Ordinal);
    }
}
