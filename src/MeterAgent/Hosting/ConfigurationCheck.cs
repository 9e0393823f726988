using System.Reflection;
using System.Text.RegularExpressions;
using MeterAgent.Contracts.Specs;
using MeterAgent.Credits;
using Microsoft.Extensions.Options;

namespace MeterAgent.Hosting;

/// <summary>
/// Every start-up check that needs neither a port nor the store: each validated options class, bound as a start binds
/// it; the contract specs and the trusted keys; the proxy's routes, clusters and upstream credentials. It runs before
/// a start wires anything (a bad setting stops the start with these lines) and alone for <c>--check-config</c>.
/// </summary>
/// <remarks>Each problem is one line that names its key. No value of a string setting is printed: it may be a secret.</remarks>
internal sealed partial class ConfigurationCheck(IReadOnlyList<Type> validatedOptions)
{
    public const string Flag = "--check-config";

    /// <summary>The exit code of a start or a check stopped by the configuration.</summary>
    public const int InvalidExitCode = 2;

    /// <summary>The options classes with a validator, as the host registered them (the container cannot list them).</summary>
    public IReadOnlyList<Type> ValidatedOptions => validatedOptions;

    public static bool Handles(string[] args) => args.Contains(Flag, StringComparer.OrdinalIgnoreCase);

    /// <summary><c>meteragent --check-config [settings]</c>: 0 and "configuration OK", or 2 and one line per problem.</summary>
    public static int Run(string[] args, TextWriter output, TextWriter error)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(error);
        IReadOnlyList<string> problems = [];
        try
        {
            using (MeterAgentHost.Build([.. args.Where(a => !a.Equals(Flag, StringComparison.OrdinalIgnoreCase))], null, null, app =>
            {
                problems = app.Services.GetRequiredService<ConfigurationCheck>().Problems(app.Services);
                return false;
            }))
            {
                // Built to be checked, never started.
            }
        }
        catch (Exception ex) when (Problem(ex) is { } problem)
        {
            problems = problem;
        }

        if (problems.Count > 0)
        {
            Report(problems, error);
            return InvalidExitCode;
        }

        output.WriteLine("configuration OK");
        return 0;
    }

    /// <summary>Writes the problems the way both a start and a check report them.</summary>
    public static void Report(IReadOnlyList<string> problems, TextWriter error)
    {
        ArgumentNullException.ThrowIfNull(problems);
        ArgumentNullException.ThrowIfNull(error);
        error.WriteLine(problems.Count == 1
            ? "MeterAgent: the configuration has a problem:"
            : $"MeterAgent: the configuration has {problems.Count} problems:");
        foreach (var problem in problems)
        {
            error.WriteLine($"  {problem}");
        }
    }

    /// <summary>
    /// What a failure while building the host (before the checks) says about the configuration, or null when it is not
    /// about the configuration: a value the binder cannot convert, read during registration; an invalid options class
    /// read then, or when the host starts.
    /// </summary>
    public static IReadOnlyList<string>? Problem(Exception exception) => exception switch
    {
        OptionsValidationException validation => [.. validation.Failures],
        InvalidOperationException binding when BindingFailure().IsMatch(binding.Message) => [BindingProblem(binding)],
        _ => null,
    };

    /// <summary>The problems, one line each, in the order the checks ran; empty when the configuration is usable.</summary>
    public IReadOnlyList<string> Problems(IServiceProvider services)
    {
        ArgumentNullException.ThrowIfNull(services);
        var problems = new List<string>();
        var failed = new HashSet<Type>();
        foreach (var type in validatedOptions)
        {
            var count = problems.Count;
            problems.AddRange(OptionsProblems(services, type));
            if (problems.Count > count)
            {
                failed.Add(type);
            }
        }

        // Loading these reads their options again: only once the options themselves are fine.
        if (!failed.Contains(typeof(CreditsOptions)))
        {
            problems.AddRange(Loading(services, typeof(ContractCatalog), $"{CreditsOptions.Section}:{nameof(CreditsOptions.ContractsPath)}"));
            if (!failed.Contains(typeof(DeliveryOptions)))
            {
                problems.AddRange(Loading(services, typeof(TrustedKeys), $"{CreditsOptions.Section}:{nameof(CreditsOptions.TrustedKeysPath)}"));
            }
        }

        problems.AddRange(ProxyConfigurationCheck.Problems(services));
        return problems;
    }

    /// <summary>Binds and validates one options class as its first use would.</summary>
    private static IEnumerable<string> OptionsProblems(IServiceProvider services, Type type)
    {
        var accessor = typeof(IOptions<>).MakeGenericType(type);
        try
        {
            _ = accessor.GetProperty(nameof(IOptions<object>.Value))!.GetValue(services.GetRequiredService(accessor));
            return [];
        }
        catch (TargetInvocationException ex) when (ex.InnerException is OptionsValidationException validation)
        {
            return validation.Failures;
        }
        catch (TargetInvocationException ex) when (ex.InnerException is InvalidOperationException binding)
        {
            return [BindingProblem(binding)];
        }
    }

    private static IEnumerable<string> Loading(IServiceProvider services, Type type, string key)
    {
        try
        {
            _ = services.GetRequiredService(type);
            return [];
        }
        catch (Exception ex) when (ex is ContractSpecException or IOException or UnauthorizedAccessException or FormatException or ArgumentException
            or System.Text.Json.JsonException or InvalidOperationException)
        {
            return [$"{key}: {ex.Message}"];
        }
    }

    /// <summary>
    /// A value the binder cannot convert (a word where a number goes, an unknown enum name): named by its key and what
    /// the key takes, without the value.
    /// </summary>
    private static string BindingProblem(InvalidOperationException binding)
    {
        var match = BindingFailure().Match(binding.Message);
        if (!match.Success)
        {
            return $"A setting could not be read: {binding.GetBaseException().GetType().Name}.";
        }

        var key = match.Groups["key"].Value;
        return $"{key} must be {Expected(FindType(match.Groups["type"].Value))}.";
    }

    private static string Expected(Type? type)
    {
        type = type is null ? null : Nullable.GetUnderlyingType(type) ?? type;
        return type switch
        {
            null => "a value of the setting's type",
            { IsEnum: true } => $"one of {string.Join(", ", Enum.GetNames(type))}",
            _ when type == typeof(TimeSpan) => "a time span such as 00:01:30 (hh:mm:ss, or d.hh:mm:ss)",
            _ when type == typeof(bool) => "true or false",
            _ when type == typeof(int) || type == typeof(long) => "a whole number",
            _ when type == typeof(double) || type == typeof(decimal) || type == typeof(float) => "a number",
            _ when type == typeof(Uri) => "a URL",
            _ => $"a {type.Name}",
        };
    }

    private static Type? FindType(string name) =>
        Type.GetType(name, throwOnError: false)
        ?? AppDomain.CurrentDomain.GetAssemblies().Select(assembly => assembly.GetType(name, throwOnError: false)).FirstOrDefault(type => type is not null);

    // Microsoft.Extensions.Configuration.Binder: "Failed to convert configuration value '{value}' at '{path}' to type '{type}'."
    [GeneratedRegex("at '(?<key>[^']+)' to type '(?<type>[^']+)'", RegexOptions.CultureInvariant)]
    private static partial Regex BindingFailure();
}
