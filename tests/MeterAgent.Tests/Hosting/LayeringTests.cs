using System.Text.RegularExpressions;

namespace MeterAgent.Tests.Hosting;

/// <summary>The host's folders (one namespace each) depend on each other one way only, read from the source itself.</summary>
public sealed partial class LayeringTests
{
    [Fact]
    public void The_hosts_namespaces_have_no_cycles()
    {
        var host = Path.Combine(RepoRoot.Path, "src", "MeterAgent");
        var folders = Directory.GetDirectories(host).Select(Path.GetFileName).Where(f => f is not ("bin" or "obj")).ToHashSet()!;
        var uses = folders.ToDictionary(f => f!, _ => new HashSet<string>());
        foreach (var folder in folders)
        {
            foreach (var file in Directory.GetFiles(Path.Combine(host, folder!), "*.cs"))
            {
                foreach (Match match in UsingHostNamespace().Matches(File.ReadAllText(file)))
                {
                    var used = match.Groups[1].Value;
                    if (used != folder && folders.Contains(used))
                    {
                        uses[folder!].Add(used);
                    }
                }
            }
        }

        // Depth-first search: a namespace met again while it is still on the path closes a cycle.
        var state = new Dictionary<string, int>();
        var path = new Stack<string>();
        void Visit(string node)
        {
            state[node] = 1;
            path.Push(node);
            foreach (var next in uses[node])
            {
                if (state.GetValueOrDefault(next) == 1)
                {
                    Assert.Fail($"namespace cycle: {string.Join(" -> ", path.Reverse().SkipWhile(n => n != next))} -> {next}");
                }

                if (state.GetValueOrDefault(next) == 0)
                {
                    Visit(next);
                }
            }

            path.Pop();
            state[node] = 2;
        }

        foreach (var folder in uses.Keys)
        {
            if (state.GetValueOrDefault(folder) == 0)
            {
                Visit(folder);
            }
        }

        // The neutral place depends on no other folder; nothing depends on the composition root.
        Assert.Empty(uses["Common"]);
        Assert.DoesNotContain(uses, pair => pair.Key != "Demo" && pair.Value.Contains("Hosting"));
    }

    [GeneratedRegex(@"^using MeterAgent\.(\w+);", RegexOptions.Multiline)]
    private static partial Regex UsingHostNamespace();
}
