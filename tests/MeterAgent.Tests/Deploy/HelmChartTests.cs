using System.Text.Json;
using System.Text.RegularExpressions;

namespace MeterAgent.Tests.Deploy;

/// <summary>
/// helm/meteragent without a helm binary (none can be installed where this runs): the values validate against the
/// schema (ajv), every value a template reads is defined and typed, the settings it writes are keys the app reads, the
/// probes are the agent's health paths, and the rules and dashboards it ships are the repository's, byte for byte.
/// </summary>
public sealed partial class HelmChartTests
{
    private static readonly string Chart = Path.Combine(RepoRoot.Path, "helm", "meteragent");

    private static string Templates => Path.Combine(Chart, "templates");

    private static IEnumerable<string> TemplateFiles => Directory.GetFiles(Templates).Order(StringComparer.Ordinal);

    [SkippableFact]
    public void Values_and_every_example_validate_against_the_schema()
    {
        DeployTools.RequireNodeValidators();
        var examples = Directory.GetFiles(Path.Combine(Chart, "examples"), "*.yaml").Order(StringComparer.Ordinal).ToList();
        Assert.NotEmpty(examples);
        var output = DeployTools.Validate("validate-values.mjs", [Path.Combine(Chart, "values.schema.json"), Path.Combine(Chart, "values.yaml"), .. examples]);
        Assert.Equal(examples.Count + 1, output.Split('\n').Count(l => l.StartsWith("ok ", StringComparison.Ordinal)));
    }

    [SkippableFact]
    public void The_schema_refuses_values_that_turn_the_hardening_off_or_misspell_a_key()
    {
        DeployTools.RequireNodeValidators();
        using var folder = new TempFolder();
        var bad = new Dictionary<string, string>
        {
            ["writable-root"] = "securityContext:\n  readOnlyRootFilesystem: false\n",
            ["root"] = "podSecurityContext:\n  runAsNonRoot: false\n",
            ["typo"] = "serviceMonitor:\n  enable: true\n",
            ["store"] = "store:\n  kind: postgres\n",
            ["sqlite-hpa"] = "autoscaling:\n  enabled: true\n",
        };
        foreach (var (name, yaml) in bad)
        {
            var file = Path.Combine(folder.Path, name + ".yaml");
            File.WriteAllText(file, yaml);
            var (exitCode, output, _) = DeployTools.Run("node", ["validate-values.mjs", Path.Combine(Chart, "values.schema.json"), Path.Combine(Chart, "values.yaml"), file], workingDirectory: DeployTools.CheckFolder);
            Assert.True(exitCode != 0, $"{name} was accepted: {output}");
        }
    }

    [Fact]
    public void Every_values_path_a_template_uses_is_in_values_yaml_and_in_the_schema()
    {
        var values = DeployTools.Load(Path.Combine(Chart, "values.yaml"));
        using var schema = JsonDocument.Parse(File.ReadAllText(Path.Combine(Chart, "values.schema.json")));
        var problems = new List<string>();
        var used = TemplateFiles.SelectMany(f => ValuesPath().Matches(File.ReadAllText(f)).Select(m => (File: Path.GetFileName(f), Path: m.Groups["path"].Value))).ToList();
        Assert.NotEmpty(used);
        foreach (var (file, path) in used.Distinct())
        {
            var segments = path.TrimStart('.').Split('.');
            if (values.Get(segments) is null)
            {
                problems.Add($"{file}: .Values{path} is not in values.yaml");
            }

            if (!InSchema(schema.RootElement, segments))
            {
                problems.Add($"{file}: .Values{path} is not in values.schema.json");
            }
        }

        Assert.True(problems.Count == 0, string.Join('\n', problems));
    }

    [Fact]
    public void Every_value_is_documented_and_every_top_level_value_is_used()
    {
        var lines = File.ReadAllLines(Path.Combine(Chart, "values.yaml"));
        var templates = string.Concat(TemplateFiles.Select(File.ReadAllText));
        var undocumented = new List<string>();
        for (var i = 0; i < lines.Length; i++)
        {
            if (LeafKey().IsMatch(lines[i]) && !Documented(lines, i))
            {
                undocumented.Add(lines[i].Trim());
            }

            if (TopLevelKey().Match(lines[i]) is { Success: true } key)
            {
                Assert.Contains($".Values.{key.Groups["key"].Value}", templates, StringComparison.Ordinal);
            }
        }

        Assert.True(undocumented.Count == 0, "values.yaml keys without a '# --' comment (on them or on a parent): " + string.Join(", ", undocumented));
    }

    /// <summary>A "# --" comment right above the key, or above a key it is nested in.</summary>
    private static bool Documented(string[] lines, int index)
    {
        while (true)
        {
            // The comment block right above the key (it may run over several lines) starts with "# --".
            var above = index - 1;
            while (above >= 0 && lines[above].TrimStart().StartsWith('#') && !lines[above].TrimStart().StartsWith("# --", StringComparison.Ordinal))
            {
                above--;
            }

            if (above >= 0 && lines[above].TrimStart().StartsWith("# --", StringComparison.Ordinal))
            {
                return true;
            }

            var indent = Indent(lines[index]);
            var parent = index - 1;
            while (parent >= 0 && (lines[parent].TrimStart().StartsWith('#') || lines[parent].Trim().Length == 0 || Indent(lines[parent]) >= indent))
            {
                parent--;
            }

            if (parent < 0)
            {
                return false;
            }

            index = parent;
        }
    }

    private static int Indent(string line) => line.Length - line.TrimStart(' ', '-').Length;

    [Fact]
    public void The_settings_the_templates_write_are_configuration_keys_the_app_reads()
    {
        var names = TemplateFiles.SelectMany(f => SettingName().Matches(File.ReadAllText(f)).Select(m => m.Groups["name"].Value))
            .Select(n => TemplateAction().Replace(n, "openai")).Distinct(StringComparer.Ordinal).ToList();
        Assert.Contains("Store__Kind", names);
        Assert.Contains("Redis__ReplicaId", names);
        var problems = names.Select(ConfigurationKeys.Problem).OfType<string>().ToList();
        Assert.True(problems.Count == 0, string.Join('\n', problems));
    }

    [Fact]
    public void The_workload_probes_the_agents_health_paths_on_the_management_port_and_is_hardened()
    {
        var workload = File.ReadAllText(Path.Combine(Templates, "workload.yaml"));
        var paths = ProbePath().Matches(workload).Select(m => m.Groups["path"].Value).ToList();
        Assert.Equal(3, paths.Count);
        Assert.All(paths, p => Assert.Contains(p, HealthEndpointTests.Paths));
        Assert.Contains("path: " + HealthEndpointTests.ReadyPath, workload, StringComparison.Ordinal);
        Assert.Equal(3, Regex.Matches(workload, "port: management").Count);
        Assert.Contains("toYaml .Values.securityContext", workload, StringComparison.Ordinal);
        Assert.Contains("toYaml .Values.podSecurityContext", workload, StringComparison.Ordinal);
        Assert.Contains("preStop:", workload, StringComparison.Ordinal);

        var values = DeployTools.Load(Path.Combine(Chart, "values.yaml"));
        Assert.Equal(AppFacts.ProxyPort.ToString(System.Globalization.CultureInfo.InvariantCulture), values.Text("ports", "proxy"));
        Assert.Equal(AppFacts.ManagementPort.ToString(System.Globalization.CultureInfo.InvariantCulture), values.Text("ports", "management"));
        Assert.Equal("true", values.Text("securityContext", "readOnlyRootFilesystem"));
        Assert.Equal("RuntimeDefault", values.Text("podSecurityContext", "seccompProfile", "type"));
        Assert.Equal(Dockerfile.Load().Final.Last(l => l.Instruction == "USER").Arguments.Split(':')[0], values.Text("securityContext", "runAsUser"));
    }

    [Fact]
    public void The_chart_rules_are_deploy_prometheus_rules_byte_for_byte_and_the_template_reads_them_untemplated()
    {
        var copy = Path.Combine(Chart, "files", "meteragent-rules.yaml");
        Assert.True(File.ReadAllBytes(Promtool.RulesFile).AsSpan().SequenceEqual(File.ReadAllBytes(copy)),
            $"{copy} differs from {Promtool.RulesFile}: copy it again");
        var template = File.ReadAllText(Path.Combine(Templates, "prometheusrule.yaml"));
        Assert.Contains(".Files.Get \"files/meteragent-rules.yaml\" | fromYaml", template, StringComparison.Ordinal);
        Assert.Contains("toYaml $rules.groups", template, StringComparison.Ordinal);
        Assert.DoesNotContain("tpl ", template, StringComparison.Ordinal);
    }

    [Fact]
    public void The_dashboard_config_maps_carry_every_dashboard_byte_for_byte_labelled_for_the_grafana_sidecar()
    {
        var repo = Directory.GetFiles(Path.Combine(RepoRoot.Path, "dashboards"), "*.json").Order(StringComparer.Ordinal).ToList();
        var copies = Directory.GetFiles(Path.Combine(Chart, "files", "dashboards"), "*.json").Order(StringComparer.Ordinal).ToList();
        Assert.Equal(repo.Select(Path.GetFileName), copies.Select(Path.GetFileName));
        foreach (var (original, copy) in repo.Zip(copies))
        {
            Assert.True(File.ReadAllBytes(original).AsSpan().SequenceEqual(File.ReadAllBytes(copy)), $"{copy} differs from {original}: copy it again");
        }

        var template = File.ReadAllText(Path.Combine(Templates, "dashboards.yaml"));
        Assert.Contains(".Files.Glob \"files/dashboards/*.json\"", template, StringComparison.Ordinal);
        Assert.Equal("1", DeployTools.Load(Path.Combine(Chart, "values.yaml")).Text("dashboards", "labels", "grafana_dashboard"));
    }

    [SkippableFact]
    public void The_shipped_rules_validate_as_a_PrometheusRule()
    {
        DeployTools.RequireNodeValidators();
        var output = DeployTools.Validate("validate-k8s.mjs", ["--prometheus-rule", Path.Combine(Chart, "files", "meteragent-rules.yaml")]);
        Assert.Contains("ok PrometheusRule/", output, StringComparison.Ordinal);
    }

    [Fact]
    public void The_chart_says_it_was_never_rendered_by_helm()
    {
        Assert.Contains("No `helm` binary", File.ReadAllText(Path.Combine(Chart, "README.md")), StringComparison.Ordinal);
        var chart = DeployTools.Load(Path.Combine(Chart, "Chart.yaml"));
        Assert.Equal("v2", chart.Text("apiVersion"));
        Assert.Equal("meteragent", chart.Text("name"));
    }

    /// <summary>The path is declared in the schema's properties (or allowed by a map's additionalProperties).</summary>
    private static bool InSchema(JsonElement schema, IEnumerable<string> segments)
    {
        foreach (var segment in segments)
        {
            if (schema.TryGetProperty("properties", out var properties) && properties.TryGetProperty(segment, out var next))
            {
                schema = next;
            }
            else if (schema.TryGetProperty("additionalProperties", out var additional) && additional.ValueKind == JsonValueKind.Object)
            {
                schema = additional;
            }
            else
            {
                // A free-form object (no properties declared) takes any key.
                return schema.TryGetProperty("type", out var type) && type.GetString() == "object" && !schema.TryGetProperty("properties", out _)
                    && !(schema.TryGetProperty("additionalProperties", out var closed) && closed.ValueKind == JsonValueKind.False);
            }
        }

        return true;
    }

    [GeneratedRegex(@"\.Values(?<path>(\.[A-Za-z_][A-Za-z0-9_]*)+)")]
    private static partial Regex ValuesPath();

    [GeneratedRegex(@"^(?<key>[A-Za-z][A-Za-z0-9]*):")]
    private static partial Regex TopLevelKey();

    [GeneratedRegex(@"^[\s-]*[A-Za-z][A-Za-z0-9_./-]*:\s*\S")]
    private static partial Regex LeafKey();

    // Settings written as ConfigMap keys or env names: Section__Key (a template action may stand for one segment).
    [GeneratedRegex(@"(?<![A-Za-z0-9_])(?<name>(?:DOTNET_[A-Z]+|[A-Z][A-Za-z]+__(?:[A-Za-z0-9]+|\{\{[^}]*\}\})(?:__(?:[A-Za-z0-9]+|\{\{[^}]*\}\}))*))(?=[:\s""]|$)", RegexOptions.Multiline)]
    private static partial Regex SettingName();

    [GeneratedRegex(@"\{\{[^}]*\}\}")]
    private static partial Regex TemplateAction();

    [GeneratedRegex(@"path: (?<path>/healthz/\S+)")]
    private static partial Regex ProbePath();
}
