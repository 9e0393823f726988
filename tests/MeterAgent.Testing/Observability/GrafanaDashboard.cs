using System.Text.Json;
using System.Text.RegularExpressions;

namespace MeterAgent.Testing;

/// <summary>One query of one panel.</summary>
/// <param name="Dashboard">the dashboard's file name</param>
/// <param name="Panel">the panel's title</param>
/// <param name="RefId">the query's refId</param>
/// <param name="Expression">its PromQL, with Grafana's variables in it</param>
public sealed record DashboardQuery(string Dashboard, string Panel, string RefId, string Expression)
{
    public override string ToString() => $"{Dashboard} / {Panel} / {RefId}: {Expression}";
}

/// <summary>A template variable.</summary>
/// <param name="Name">its name, as $name refers to it</param>
/// <param name="Type">datasource, query, ...</param>
/// <param name="Query">a query variable's query (label_values(...)), a data source variable's plugin type</param>
/// <param name="Element">the variable as the file has it</param>
public sealed record DashboardVariable(string Name, string Type, string? Query, JsonElement Element);

/// <summary>A <c>label_values(selector, label)</c> variable query, as the Prometheus data source runs it.</summary>
/// <param name="Selector">the series selector, with variables in it</param>
/// <param name="Label">the label whose values it lists</param>
public sealed record LabelValuesQuery(string Selector, string Label);

/// <summary>One of the Grafana dashboards in the repository's dashboards/ folder, as a test reads it.</summary>
public sealed partial class GrafanaDashboard
{
    private GrafanaDashboard(string fileName, JsonElement root)
    {
        FileName = fileName;
        Root = root;
    }

    public static string Folder => Path.Combine(RepoRoot.Path, "dashboards");

    public string FileName { get; }

    public JsonElement Root { get; }

    public string Title => Root.GetProperty("title").GetString() ?? "";

    /// <summary>Every panel but the rows, the panels of collapsed rows included.</summary>
    public IReadOnlyList<JsonElement> Panels => AllPanels().Where(p => PanelType(p) != "row").ToList();

    public IReadOnlyList<JsonElement> Rows => AllPanels().Where(p => PanelType(p) == "row").ToList();

    public IReadOnlyList<DashboardVariable> Variables =>
        Root.TryGetProperty("templating", out var templating) && templating.TryGetProperty("list", out var list)
            ? list.EnumerateArray().Select(ToVariable).ToList()
            : [];

    /// <summary>Every query of every panel.</summary>
    public IReadOnlyList<DashboardQuery> Queries =>
        Panels.SelectMany(panel => Targets(panel).Select(target => new DashboardQuery(
            FileName,
            PanelTitle(panel),
            target.TryGetProperty("refId", out var refId) ? refId.GetString() ?? "" : "",
            target.TryGetProperty("expr", out var expr) ? expr.GetString() ?? "" : ""))).ToList();

    /// <summary>Every *.json file of dashboards/.</summary>
    public static IReadOnlyList<GrafanaDashboard> LoadAll() =>
        Directory.GetFiles(Folder, "*.json").Order(StringComparer.Ordinal).Select(Load).ToList();

    public static GrafanaDashboard Load(string path)
    {
        using var document = JsonDocument.Parse(File.ReadAllText(path));
        return new GrafanaDashboard(Path.GetFileName(path), document.RootElement.Clone());
    }

    public static string PanelType(JsonElement panel) => panel.TryGetProperty("type", out var type) ? type.GetString() ?? "" : "";

    public static string PanelTitle(JsonElement panel) => panel.TryGetProperty("title", out var title) ? title.GetString() ?? "" : "";

    public static IReadOnlyList<JsonElement> Targets(JsonElement panel) =>
        panel.TryGetProperty("targets", out var targets) && targets.ValueKind == JsonValueKind.Array ? targets.EnumerateArray().ToList() : [];

    /// <summary>A query variable's label_values(selector, label), or null for any other query.</summary>
    public static LabelValuesQuery? ParseLabelValues(string? query)
    {
        var match = LabelValues().Match(query ?? "");
        return match.Success ? new LabelValuesQuery(match.Groups["selector"].Value.Trim(), match.Groups["label"].Value) : null;
    }

    [GeneratedRegex(@"^\s*label_values\((?<selector>.+),\s*(?<label>[A-Za-z_][A-Za-z0-9_]*)\s*\)\s*$", RegexOptions.Singleline)]
    private static partial Regex LabelValues();

    private IEnumerable<JsonElement> AllPanels()
    {
        if (!Root.TryGetProperty("panels", out var panels))
        {
            yield break;
        }

        foreach (var panel in panels.EnumerateArray())
        {
            yield return panel;
            if (panel.TryGetProperty("panels", out var nested) && nested.ValueKind == JsonValueKind.Array)
            {
                foreach (var inner in nested.EnumerateArray())
                {
                    yield return inner;
                }
            }
        }
    }

    private static DashboardVariable ToVariable(JsonElement variable)
    {
        string? query = null;
        if (variable.TryGetProperty("query", out var q))
        {
            query = q.ValueKind switch
            {
                JsonValueKind.String => q.GetString(),
                JsonValueKind.Object when q.TryGetProperty("query", out var inner) => inner.GetString(),
                _ => null,
            };
        }

        return new DashboardVariable(
            variable.TryGetProperty("name", out var name) ? name.GetString() ?? "" : "",
            variable.TryGetProperty("type", out var type) ? type.GetString() ?? "" : "",
            query,
            variable);
    }
}
