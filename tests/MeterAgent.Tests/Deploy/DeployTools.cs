using System.Diagnostics;
using YamlDotNet.RepresentationModel;

namespace MeterAgent.Tests.Deploy;

/// <summary>
/// The tools the deployment tests run: kubectl (its built-in kustomize, offline) and node with the validators of
/// tests/deploy-check. Missing ones skip a test on a developer machine and fail it in CI (<see cref="Prerequisite"/>).
/// </summary>
internal static class DeployTools
{
    public static string CheckFolder => Path.Combine(RepoRoot.Path, "tests", "deploy-check");

    public static void RequireKubectl() =>
        Prerequisite.Require(OnPath("kubectl"), "kubectl is not installed (it ships with the project's machines; elsewhere install kubectl, whose `kubectl kustomize` works offline)");

    public static void RequireNodeValidators() =>
        Prerequisite.Require(
            OnPath("node") && Directory.Exists(Path.Combine(CheckFolder, "node_modules", "kubernetes-models")) && Directory.Exists(Path.Combine(CheckFolder, "node_modules", "ajv")),
            $"the deployment validators are not installed in {CheckFolder}: run `npm ci --prefix tests/deploy-check` (`apt-get install nodejs npm` first if node is missing)");

    /// <summary>Runs <paramref name="program"/> to its end (2 minutes at most): its exit code, stdout and stderr.</summary>
    public static (int ExitCode, string Output, string Error) Run(string program, IEnumerable<string> arguments, string? input = null, string? workingDirectory = null, IDictionary<string, string>? environment = null)
    {
        var start = new ProcessStartInfo(program)
        {
            WorkingDirectory = workingDirectory ?? RepoRoot.Path,
            RedirectStandardInput = input is not null,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[name] = value;
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"{program} did not start");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (input is not null)
        {
            process.StandardInput.Write(input);
            process.StandardInput.Close();
        }

        if (!process.WaitForExit(TimeSpan.FromMinutes(2)))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"{program} {string.Join(' ', start.ArgumentList)} did not finish in 2 minutes");
        }

        return (process.ExitCode, stdout.Result, stderr.Result);
    }

    /// <summary><c>kubectl kustomize</c> of a folder: the rendered multi-document YAML.</summary>
    public static string Kustomize(string folder)
    {
        var (exitCode, output, error) = Run("kubectl", ["kustomize", folder]);
        Assert.True(exitCode == 0, $"kubectl kustomize {folder} failed ({exitCode}): {error}");
        return output;
    }

    /// <summary>Runs a validator of tests/deploy-check; fails the test with every line it printed unless it passed.</summary>
    public static string Validate(string script, IEnumerable<string> arguments, string? input = null)
    {
        var (exitCode, output, error) = Run("node", [script, .. arguments], input, CheckFolder);
        Assert.True(exitCode == 0, $"node {script} failed ({exitCode}):\n{output}{error}");
        return output;
    }

    public static bool OnPath(string program) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Any(folder => File.Exists(Path.Combine(folder, program)));

    // YAML, with the merge keys (<<) compose files use resolved: YamlDotNet's representation model keeps them as keys.

    public static List<YamlMappingNode> LoadAll(string yaml)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(yaml));
        return stream.Documents.Where(d => d.RootNode is YamlMappingNode).Select(d => (YamlMappingNode)d.RootNode).ToList();
    }

    public static YamlMappingNode Load(string path) => LoadAll(File.ReadAllText(path)).Single();

    public static YamlNode? Get(this YamlNode? node, params string[] path)
    {
        foreach (var key in path)
        {
            if (node is not YamlMappingNode map)
            {
                return null;
            }

            node = Lookup(map, key);
        }

        return node;
    }

    public static string? Text(this YamlNode? node, params string[] path) => (node.Get(path) as YamlScalarNode)?.Value;

    public static IEnumerable<YamlNode> Items(this YamlNode? node, params string[] path) =>
        node.Get(path) as YamlSequenceNode ?? (IEnumerable<YamlNode>)[];

    /// <summary>The entries of a mapping, merge keys resolved (own entries win over merged ones).</summary>
    public static IEnumerable<(string Key, YamlNode Value)> Entries(this YamlNode? node)
    {
        if (node is not YamlMappingNode map)
        {
            yield break;
        }

        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (key, value) in map.Children)
        {
            var name = ((YamlScalarNode)key).Value!;
            if (name != "<<" && seen.Add(name))
            {
                yield return (name, value);
            }
        }

        if (map.Children.TryGetValue(new YamlScalarNode("<<"), out var merged))
        {
            foreach (var (name, value) in merged.Entries().Where(e => !seen.Contains(e.Key)))
            {
                yield return (name, value);
            }
        }
    }

    private static YamlNode? Lookup(YamlMappingNode map, string key) =>
        map.Children.TryGetValue(new YamlScalarNode(key), out var value)
            ? value
            : map.Children.TryGetValue(new YamlScalarNode("<<"), out var merged) && merged is YamlMappingNode mergedMap ? Lookup(mergedMap, key) : null;
}
