using System.Text.Json;
using System.Text.RegularExpressions;

namespace MeterAgent.Tests.Observability;

/// <summary>
/// The Grafana dashboards in dashboards/ are importable as they are: the current schema, a Prometheus data source
/// variable that every panel and query uses and no data source uid, an expression in every query, every variable a
/// query uses defined, only metrics and labels the agent exposes, and each panel described in dashboards/README.md.
/// Whether each expression has data is the real-Prometheus test's (IntegrationTests, PrometheusTests).
/// </summary>
public sealed partial class DashboardFileTests
{
    /// <summary>Grafana 12's dashboard schema.</summary>
    private const int SchemaVersion = 41;

    private const string DataSourceUid = "${datasource}";

    public static TheoryData<string> Files => new(GrafanaDashboard.LoadAll().Select(d => d.FileName));

    private static GrafanaDashboard Load(string file) => GrafanaDashboard.Load(Path.Combine(GrafanaDashboard.Folder, file));

    [Fact]
    public void The_overview_credits_and_health_dashboards_are_there_with_distinct_uids()
    {
        var dashboards = GrafanaDashboard.LoadAll();
        Assert.Equal(["meteragent-credits.json", "meteragent-health.json", "meteragent-overview.json"], dashboards.Select(d => d.FileName));
        var uids = dashboards.Select(d => d.Root.GetProperty("uid").GetString()).ToList();
        Assert.All(uids, uid => Assert.False(string.IsNullOrWhiteSpace(uid)));
        Assert.Equal(uids.Count, uids.Distinct().Count());
    }

    [Theory]
    [MemberData(nameof(Files))]
    public void It_is_a_current_schema_dashboard_with_unique_placed_panels(string file)
    {
        var dashboard = Load(file);
        var root = dashboard.Root;
        Assert.Equal(SchemaVersion, root.GetProperty("schemaVersion").GetInt32());
        Assert.Equal(JsonValueKind.Null, root.GetProperty("id").ValueKind); // Import assigns it.
        Assert.StartsWith("MeterAgent / ", dashboard.Title, StringComparison.Ordinal);
        Assert.Contains("meteragent", root.GetProperty("tags").EnumerateArray().Select(t => t.GetString()));
        Assert.False(root.TryGetProperty("__inputs", out _), "no import-time inputs: the data source is a variable");

        var all = dashboard.Panels.Concat(dashboard.Rows).ToList();
        Assert.NotEmpty(dashboard.Panels);
        var ids = all.Select(p => p.GetProperty("id").GetInt32()).ToList();
        Assert.Equal(ids.Count, ids.Distinct().Count());
        foreach (var panel in all)
        {
            var grid = panel.GetProperty("gridPos");
            Assert.InRange(grid.GetProperty("w").GetInt32(), 1, 24);
            Assert.InRange(grid.GetProperty("x").GetInt32() + grid.GetProperty("w").GetInt32(), 1, 24);
            Assert.True(grid.GetProperty("h").GetInt32() > 0);
        }

        Assert.All(dashboard.Panels, panel =>
        {
            Assert.False(string.IsNullOrWhiteSpace(GrafanaDashboard.PanelTitle(panel)));
            Assert.False(string.IsNullOrWhiteSpace(panel.GetProperty("description").GetString()), $"{GrafanaDashboard.PanelTitle(panel)} has no description");
        });
    }

    [Theory]
    [MemberData(nameof(Files))]
    public void Every_panel_and_query_uses_the_prometheus_data_source_variable_and_no_uid(string file)
    {
        var dashboard = Load(file);
        var dataSource = Assert.Single(dashboard.Variables, v => v.Type == "datasource");
        Assert.Equal("datasource", dataSource.Name);
        Assert.Equal("prometheus", dataSource.Query);

        foreach (var panel in dashboard.Panels)
        {
            var title = GrafanaDashboard.PanelTitle(panel);
            AssertUsesVariable(panel.GetProperty("datasource"), title);
            var targets = GrafanaDashboard.Targets(panel);
            Assert.True(targets.Count > 0, $"{title} has no query");
            foreach (var target in targets)
            {
                AssertUsesVariable(target.GetProperty("datasource"), $"{title} / {target.GetProperty("refId").GetString()}");
                Assert.False(string.IsNullOrWhiteSpace(target.GetProperty("expr").GetString()), $"{title} has a query without an expression");
            }

            var refIds = targets.Select(t => t.GetProperty("refId").GetString()).ToList();
            Assert.Equal(refIds.Count, refIds.Distinct().Count());
        }

        foreach (var variable in dashboard.Variables.Where(v => v.Type == "query"))
        {
            AssertUsesVariable(variable.Element.GetProperty("datasource"), $"variable {variable.Name}");
        }

        // Anywhere in the file: a data source is the variable, never a uid or a name of one.
        var offenders = new List<string>();
        FindDataSources(dashboard.Root, "$", offenders);
        Assert.True(offenders.Count == 0, "data sources that are not the variable: " + string.Join(", ", offenders));
    }

    [Theory]
    [MemberData(nameof(Files))]
    public void Every_variable_a_query_uses_is_defined_and_every_defined_one_is_used(string file)
    {
        var dashboard = Load(file);
        var defined = dashboard.Variables.Select(v => v.Name).ToHashSet(StringComparer.Ordinal);
        var queries = dashboard.Queries.Select(q => q.Expression).Concat(dashboard.Variables.Where(v => v.Type == "query").Select(v => v.Query ?? "")).ToList();
        var used = queries.SelectMany(PromQl.VariableReferences).ToHashSet(StringComparer.Ordinal);
        used.Add("datasource");

        Assert.Empty(used.Except(defined));
        Assert.Empty(defined.Except(used));
        foreach (var variable in dashboard.Variables.Where(v => v.Type == "query"))
        {
            Assert.NotNull(GrafanaDashboard.ParseLabelValues(variable.Query));
            Assert.Equal(variable.Query, variable.Element.GetProperty("definition").GetString());

            // Panels match with =~"$name": All must mean every value, and several values must make a regex.
            Assert.True(variable.Element.GetProperty("multi").GetBoolean(), $"{variable.Name} is multi-value");
            Assert.True(variable.Element.GetProperty("includeAll").GetBoolean(), $"{variable.Name} has All");
            Assert.Equal(".*", variable.Element.GetProperty("allValue").GetString());
        }

        // A variable is only ever matched as a regex (=~), the one form that works for All and for several values.
        foreach (var query in queries)
        {
            Assert.DoesNotMatch(EqualityOnVariable(), query);
        }
    }

    [Fact]
    public void The_overview_filters_by_surface_and_model_and_the_credits_by_contract()
    {
        static IEnumerable<string> Names(string file) => Load(file).Variables.Select(v => v.Name);
        Assert.Superset(new HashSet<string> { "datasource", "instance", "surface", "model" }, Names("meteragent-overview.json").ToHashSet());
        Assert.Superset(new HashSet<string> { "datasource", "instance", "contract" }, Names("meteragent-credits.json").ToHashSet());
        Assert.Superset(new HashSet<string> { "datasource", "instance" }, Names("meteragent-health.json").ToHashSet());
    }

    [Theory]
    [MemberData(nameof(Files))]
    public void Every_query_reads_metrics_and_labels_the_agent_exposes(string file)
    {
        var dashboard = Load(file);
        var problems = new List<string>();
        foreach (var query in dashboard.Queries)
        {
            var selectors = PromQl.Selectors(query.Expression);
            if (selectors.Count == 0)
            {
                problems.Add($"{query}: reads no metric");
            }

            problems.AddRange(SelectorProblems(selectors).Select(p => $"{query}: {p}"));
        }

        foreach (var variable in dashboard.Variables.Where(v => v.Type == "query"))
        {
            var labelValues = GrafanaDashboard.ParseLabelValues(variable.Query)!;
            var selectors = PromQl.Selectors(labelValues.Selector);
            problems.AddRange(SelectorProblems(selectors).Select(p => $"variable {variable.Name}: {p}"));
            if (selectors.Count == 1 && KnownMetrics.Find(selectors[0].Metric) is not null && !KnownMetrics.LabelsOf(selectors[0].Metric).Contains(labelValues.Label))
            {
                problems.Add($"variable {variable.Name}: {selectors[0].Metric} has no label {labelValues.Label}");
            }
        }

        Assert.True(problems.Count == 0, string.Join('\n', problems));
    }

    [Theory]
    [MemberData(nameof(Files))]
    public void Rates_are_over_counters_and_quantiles_over_buckets_by_le(string file)
    {
        var problems = Load(file).Queries.SelectMany(q => IdiomProblems(q.Expression).Select(p => $"{q}: {p}")).ToList();
        Assert.True(problems.Count == 0, string.Join('\n', problems));
    }

    [Fact]
    public void The_readme_describes_every_panel()
    {
        var readme = File.ReadAllText(Path.Combine(GrafanaDashboard.Folder, "README.md"));
        var missing = GrafanaDashboard.LoadAll()
            .SelectMany(d => d.Panels.Select(p => (d.FileName, Title: GrafanaDashboard.PanelTitle(p))))
            .Where(p => !readme.Contains($"**{p.Title}**", StringComparison.Ordinal))
            .ToList();
        Assert.True(missing.Count == 0, "dashboards/README.md does not describe: " + string.Join(", ", missing));
        Assert.All(GrafanaDashboard.LoadAll(), d => Assert.Contains($"## {d.Title}", readme, StringComparison.Ordinal));
    }

    /// <summary>Unknown metrics, and matchers on labels the metric does not have.</summary>
    internal static IEnumerable<string> SelectorProblems(IEnumerable<PromQlSelector> selectors)
    {
        foreach (var selector in selectors)
        {
            if (KnownMetrics.Find(selector.Metric) is null)
            {
                yield return $"{selector.Metric} is not a metric the agent exposes (tests/MeterAgent.Testing/Observability/KnownMetrics.cs)";
                continue;
            }

            foreach (var label in selector.Labels.Where(l => !KnownMetrics.LabelsOf(selector.Metric).Contains(l)))
            {
                yield return $"{selector.Metric} has no label {label}";
            }
        }
    }

    /// <summary>
    /// rate/irate/increase over counters (a histogram's _bucket, _sum, _count are counters); gauge functions over gauges;
    /// histogram_quantile over the rate of _bucket series summed by le.
    /// </summary>
    internal static IEnumerable<string> IdiomProblems(string expression)
    {
        foreach (Match match in RangeFunction().Matches(expression))
        {
            var function = match.Groups["function"].Value;
            var metric = match.Groups["metric"].Value;
            var known = KnownMetrics.Find(metric);
            if (known is null)
            {
                continue; // Reported as unknown elsewhere (or a recorded series).
            }

            var counterLike = known.Kind != MetricKind.Gauge || CumulativeGauges.Contains(metric);
            if (function is "rate" or "irate" or "increase" && !counterLike)
            {
                yield return $"{function} over the gauge {metric}";
            }
            else if (function is not ("rate" or "irate" or "increase") && counterLike && function != "count_over_time")
            {
                yield return $"{function} over the counter {metric}";
            }
        }

        foreach (Match match in Quantile().Matches(expression))
        {
            var inner = match.Groups["inner"].Value;
            if (!inner.Contains("_bucket", StringComparison.Ordinal))
            {
                yield return "histogram_quantile over something else than _bucket series";
            }

            var by = match.Groups["by"].Value.Split(',', StringSplitOptions.TrimEntries);
            if (!by.Contains("le"))
            {
                yield return "histogram_quantile over a sum that drops le";
            }
        }
    }

    /// <summary>.NET counters that prometheus-net's meter adapter exposes as gauges: they only grow, rate() is right.</summary>
    private static readonly HashSet<string> CumulativeGauges = ["system_runtime_dotnet_gc_pause_time"];

    [GeneratedRegex(@"\b(?<function>[a-z_]+)\(\s*(?<metric>[A-Za-z_:][A-Za-z0-9_:]*)\s*(?:\{[^}]*\})?\s*\[")]
    private static partial Regex RangeFunction();

    [GeneratedRegex(@"histogram_quantile\(\s*[0-9.]+\s*,\s*sum\s+by\s*\((?<by>[^)]*)\)\s*\((?<inner>[^\n]*?\]\))\s*\)")]
    private static partial Regex Quantile();

    [GeneratedRegex(@"[!]?=\s*""\$")]
    private static partial Regex EqualityOnVariable();

    private static void AssertUsesVariable(JsonElement dataSource, string where)
    {
        Assert.True(dataSource.ValueKind == JsonValueKind.Object, $"{where}: the data source is not an object");
        Assert.Equal("prometheus", dataSource.GetProperty("type").GetString());
        Assert.Equal(DataSourceUid, dataSource.GetProperty("uid").GetString());
    }

    private static void FindDataSources(JsonElement element, string path, List<string> offenders)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                foreach (var property in element.EnumerateObject())
                {
                    var at = $"{path}.{property.Name}";
                    if (property.Name == "datasource")
                    {
                        var value = property.Value;
                        var isVariable = value.ValueKind == JsonValueKind.Object
                            && value.TryGetProperty("uid", out var uid) && uid.GetString() == DataSourceUid;
                        if (!isVariable)
                        {
                            offenders.Add($"{at} = {value}");
                        }
                    }

                    FindDataSources(property.Value, at, offenders);
                }

                break;
            case JsonValueKind.Array:
                var i = 0;
                foreach (var item in element.EnumerateArray())
                {
                    FindDataSources(item, $"{path}[{i++}]", offenders);
                }

                break;
            default:
                break;
        }
    }
}
