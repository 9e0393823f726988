namespace MeterAgent.Verify.Cli;

/// <summary>
/// The options of one command, <c>--name value</c> pairs (some repeatable) and <c>--flag</c>s, read strictly: an
/// unknown option, a missing value or a single option given twice is a usage error, never a guess.
/// </summary>
internal sealed class Arguments
{
    private readonly Dictionary<string, List<string>> _values = new(StringComparer.Ordinal);
    private readonly HashSet<string> _flags = new(StringComparer.Ordinal);

    private Arguments()
    {
    }

    /// <param name="args">the command's arguments, after its name</param>
    /// <param name="single">options taking one value, at most once</param>
    /// <param name="repeated">options taking one value, any number of times</param>
    /// <param name="flags">options taking no value</param>
    public static Arguments Parse(IReadOnlyList<string> args, string[] single, string[] repeated, string[]? flags = null)
    {
        var parsed = new Arguments();
        for (var i = 0; i < args.Count; i++)
        {
            var name = args[i];
            if (flags is not null && flags.Contains(name))
            {
                parsed._flags.Add(name);
                continue;
            }

            var isSingle = single.Contains(name);
            if (!isSingle && !repeated.Contains(name))
            {
                throw new UsageException($"unknown argument '{name}'");
            }

            if (i + 1 >= args.Count || args[i + 1].StartsWith("--", StringComparison.Ordinal))
            {
                throw new UsageException($"{name} needs a value");
            }

            if (!parsed._values.TryGetValue(name, out var values))
            {
                parsed._values[name] = values = [];
            }
            else if (isSingle)
            {
                throw new UsageException($"{name} is given twice");
            }

            values.Add(args[++i]);
        }

        return parsed;
    }

    public bool Has(string flag) => _flags.Contains(flag);

    public string? Optional(string name) => _values.TryGetValue(name, out var values) ? values[0] : null;

    public string Required(string name) => Optional(name) ?? throw new UsageException($"{name} is required");

    public IReadOnlyList<string> All(string name) => _values.TryGetValue(name, out var values) ? values : [];
}

/// <summary>The command line is wrong: the tool prints the message and its usage, and exits 2.</summary>
internal sealed class UsageException : Exception
{
    public UsageException(string message)
        : base(message)
    {
    }

    public UsageException()
    {
    }

    public UsageException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
