using System.Text.Json;
using System.Text.RegularExpressions;

namespace MeterAgent.Tests.Deploy;

/// <summary>deploy/docker/Dockerfile read as instructions: line continuations joined, comments dropped, split by stage.</summary>
internal sealed partial class Dockerfile
{
    public static string PathOnDisk => Path.Combine(RepoRoot.Path, "deploy", "docker", "Dockerfile");

    private Dockerfile(List<(string Name, List<(string Instruction, string Arguments)> Lines)> stages) => Stages = stages;

    public List<(string Name, List<(string Instruction, string Arguments)> Lines)> Stages { get; }

    /// <summary>The last stage: what `docker build` without --target produces.</summary>
    public List<(string Instruction, string Arguments)> Final => Stages[^1].Lines;

    public static Dockerfile Load()
    {
        var stages = new List<(string, List<(string, string)>)>();
        var logical = new List<string>();
        var current = "";
        foreach (var raw in File.ReadAllLines(PathOnDisk))
        {
            var line = raw.Trim();
            if (line.StartsWith('#') || (line.Length == 0 && current.Length == 0))
            {
                continue;
            }

            if (line.EndsWith('\\'))
            {
                current += line[..^1] + " ";
                continue;
            }

            logical.Add(current + line);
            current = "";
        }

        foreach (var line in logical.Where(l => l.Length > 0))
        {
            var space = line.IndexOf(' ', StringComparison.Ordinal);
            var instruction = line[..space].ToUpperInvariant();
            var arguments = line[(space + 1)..].Trim();
            if (instruction == "FROM")
            {
                var name = FromAs().Match(arguments) is { Success: true } m ? m.Groups["name"].Value : "";
                stages.Add((name, []));
            }

            if (stages.Count > 0)
            {
                stages[^1].Item2.Add((instruction, arguments));
            }
        }

        return new Dockerfile(stages);
    }

    public static List<string> JsonArray(string text) => JsonSerializer.Deserialize<List<string>>(text) ?? [];

    /// <summary>key=value pairs of a LABEL or ENV instruction (values may be double-quoted).</summary>
    public static Dictionary<string, string> Pairs(IEnumerable<(string Instruction, string Arguments)> lines, string instruction) =>
        lines.Where(l => l.Instruction == instruction)
            .SelectMany(l => Pair().Matches(l.Arguments))
            .ToDictionary(m => m.Groups["key"].Value, m => m.Groups["quoted"].Success ? m.Groups["quoted"].Value : m.Groups["plain"].Value, StringComparer.Ordinal);

    [GeneratedRegex(@"\s+AS\s+(?<name>\S+)\s*$", RegexOptions.IgnoreCase)]
    private static partial Regex FromAs();

    [GeneratedRegex("(?<key>[A-Za-z0-9_.\\-]+)=(?:\"(?<quoted>[^\"]*)\"|(?<plain>\\S+))")]
    private static partial Regex Pair();
}
