using System.Text.RegularExpressions;
using YamlDotNet.RepresentationModel;

namespace MeterAgent.Tests.Observability;

/// <summary>
/// The alert rules in deploy/prometheus are complete as files: each alert the issue asks for is there with a for:, a
/// severity, a summary and a runbook section; they read only metrics the agent exposes; and each has promtool unit
/// tests in which it fires and in which it does not. Running promtool on them is the integration tests' (PromtoolTests).
/// </summary>
public sealed partial class AlertRuleFileTests
{
    private static readonly string[] ExpectedAlerts =
    [
        "MeterAgentDown",
        "MeterAgentHighErrorRatio",
        "MeterAgentProxyOverheadHigh",
        "MeterAgentTimeToFirstTokenHigh",
        "MeterAgentCreditsNearExhaustion",
        "MeterAgentReservationsExpiring",
        "MeterAgentStoreCommitSlow",
        "MeterAgentOpenRecordsPilingUp",
        "MeterAgentTokenRatioOutOfBand",
        "MeterAgentTokenRatioDrift",
    ];

    private sealed record Rule(string Group, YamlMappingNode Node)
    {
        public string? Alert => Scalar(Node, "alert");

        public string? Record => Scalar(Node, "record");

        public string Expr => Scalar(Node, "expr") ?? "";

        public string? Label(string name) => Node.Children.TryGetValue(new YamlScalarNode("labels"), out var labels) ? Scalar((YamlMappingNode)labels, name) : null;

        public string? Annotation(string name) => Node.Children.TryGetValue(new YamlScalarNode("annotations"), out var annotations) ? Scalar((YamlMappingNode)annotations, name) : null;
    }

    private static YamlMappingNode LoadYaml(string path)
    {
        var stream = new YamlStream();
        using var reader = new StreamReader(path);
        stream.Load(reader);
        return (YamlMappingNode)stream.Documents.Single().RootNode;
    }

    private static string? Scalar(YamlMappingNode node, string key) =>
        node.Children.TryGetValue(new YamlScalarNode(key), out var value) ? ((YamlScalarNode)value).Value : null;

    private static YamlSequenceNode Sequence(YamlMappingNode node, string key) =>
        node.Children.TryGetValue(new YamlScalarNode(key), out var value) ? (YamlSequenceNode)value : new YamlSequenceNode();

    private static List<Rule> Rules() =>
        Sequence(LoadYaml(Promtool.RulesFile), "groups").Cast<YamlMappingNode>()
            .SelectMany(group => Sequence(group, "rules").Cast<YamlMappingNode>().Select(rule => new Rule(Scalar(group, "name")!, rule)))
            .ToList();

    private static List<Rule> Alerts() => Rules().Where(r => r.Alert is not null).ToList();

    [Fact]
    public void Every_alert_the_issue_asks_for_is_there_once()
    {
        var names = Alerts().Select(a => a.Alert!).ToList();
        Assert.Equal(names.Count, names.Distinct().Count());
        Assert.Equal(ExpectedAlerts.Order(StringComparer.Ordinal), names.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Every_alert_waits_has_a_severity_a_summary_and_a_runbook_section()
    {
        var runbooks = File.ReadAllText(Path.Combine(RepoRoot.Path, "docs", "runbooks.md"));
        var sections = RunbookSection().Matches(runbooks).Select(m => m.Groups["name"].Value).ToList();
        foreach (var alert in Alerts())
        {
            var name = alert.Alert!;
            Assert.Matches(Duration(), alert.Node.Children[new YamlScalarNode("for")].ToString());
            Assert.Contains(alert.Label("severity"), new[] { "critical", "warning" });
            Assert.False(string.IsNullOrWhiteSpace(alert.Annotation("summary")), $"{name} has no summary");
            Assert.False(string.IsNullOrWhiteSpace(alert.Annotation("description")), $"{name} has no description");

            // The anchor GitHub and most renderers give the "## MeterAgentDown" heading.
            Assert.Equal($"docs/runbooks.md#{name.ToLowerInvariant()}", alert.Annotation("runbook_url"));
            Assert.Contains(name, sections);
        }

        // And no runbook for an alert that is gone.
        Assert.Empty(sections.Except(Alerts().Select(a => a.Alert!)));
    }

    [Fact]
    public void Every_rule_reads_metrics_and_labels_the_agent_exposes_or_series_recorded_here()
    {
        var rules = Rules();
        var recorded = rules.Where(r => r.Record is not null).Select(r => r.Record!).ToHashSet(StringComparer.Ordinal);
        var problems = new List<string>();
        foreach (var rule in rules)
        {
            var selectors = PromQl.Selectors(rule.Expr).Where(s => !recorded.Contains(s.Metric)).ToList();
            problems.AddRange(DashboardFileTests.SelectorProblems(selectors).Select(p => $"{rule.Alert ?? rule.Record}: {p}"));
            problems.AddRange(DashboardFileTests.IdiomProblems(rule.Expr).Select(p => $"{rule.Alert ?? rule.Record}: {p}"));
        }

        Assert.True(problems.Count == 0, string.Join('\n', problems));

        // Recording rules are named level:metric:operations.
        Assert.All(recorded, name => Assert.Matches(RecordedName(), name));
    }

    [Fact]
    public void The_agent_down_alert_watches_the_meteragent_scrape_job()
    {
        Assert.Equal("up{job=\"meteragent\"} == 0", Alerts().Single(a => a.Alert == "MeterAgentDown").Expr);
    }

    [Fact]
    public void Every_alert_has_promtool_tests_where_it_fires_and_where_it_does_not()
    {
        var firing = new HashSet<string>(StringComparer.Ordinal);
        var quiet = new HashSet<string>(StringComparer.Ordinal);
        Assert.NotEmpty(Promtool.TestFiles);
        foreach (var file in Promtool.TestFiles)
        {
            var test = LoadYaml(file);
            Assert.Equal(["../meteragent-rules.yaml"], Sequence(test, "rule_files").Cast<YamlScalarNode>().Select(n => n.Value));
            foreach (var group in Sequence(test, "tests").Cast<YamlMappingNode>())
            {
                foreach (var check in Sequence(group, "alert_rule_test").Cast<YamlMappingNode>())
                {
                    var alert = Scalar(check, "alertname")!;
                    (Sequence(check, "exp_alerts").Children.Count > 0 ? firing : quiet).Add(alert);
                }
            }
        }

        Assert.Empty(ExpectedAlerts.Except(firing));
        Assert.Empty(ExpectedAlerts.Except(quiet));
    }

    [Fact]
    public void The_deploy_readme_lists_every_alert()
    {
        var readme = File.ReadAllText(Path.Combine(Promtool.RulesFolder, "README.md"));
        Assert.All(ExpectedAlerts, alert => Assert.Contains($"`{alert}`", readme, StringComparison.Ordinal));
    }

    [GeneratedRegex(@"^## (?<name>MeterAgent\w+)\s*$", RegexOptions.Multiline)]
    private static partial Regex RunbookSection();

    [GeneratedRegex(@"^\d+[smh]$")]
    private static partial Regex Duration();

    [GeneratedRegex(@"^[a-z_]+:[a-z_]+:[a-z0-9_]+$")]
    private static partial Regex RecordedName();
}
