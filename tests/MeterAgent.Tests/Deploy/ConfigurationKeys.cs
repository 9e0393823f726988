using System.Reflection;
using System.Text.Json;
using MeterAgent.Common;
using MeterAgent.Credits;
using MeterAgent.Emulator;
using MeterAgent.Ledger.Hosting;
using MeterAgent.Ledger.RateLimits;
using MeterAgent.Ledger.Redis;
using MeterAgent.Ledger.Redis.Log;
using MeterAgent.Ledger.Sqlite;
using MeterAgent.Log;
using MeterAgent.Log.Witnesses;
using MeterAgent.Observability;
using MeterAgent.Shutdown;
using MeterAgent.Tracing;

namespace MeterAgent.Tests.Deploy;

/// <summary>
/// Whether a setting a deployment file passes (<c>Section__Key</c> as an environment variable, or <c>Section:Key</c>)
/// is one the app reads: a property path of the options class bound from that section, a path of appsettings.json
/// (YARP's ReverseProxy section), or one of the few host and runtime variables below. A misspelt key is otherwise
/// ignored by .NET without a word, and the deployment silently runs on the default.
/// </summary>
internal static class ConfigurationKeys
{
    // Every options class bound from a section, as the host registers them (a section may feed several classes).
    private static readonly Dictionary<string, Type[]> Sections = new(StringComparer.OrdinalIgnoreCase)
    {
        [MeterAgentOptions.Section] = [typeof(MeterAgentOptions), typeof(ShutdownOptions)],
        [StoreOptions.SectionName] = [typeof(StoreOptions), typeof(SqliteStoreOptions)],
        [RedisStoreOptions.SectionName] = [typeof(RedisStoreOptions), typeof(RedisLogOptions)],
        [LogOptions.Section] = [typeof(LogOptions), typeof(WitnessOptions)],
        [CreditsOptions.Section] = [typeof(CreditsOptions), typeof(DeliveryOptions)],
        [MetricsOptions.Section] = [typeof(MetricsOptions)],
        [TracingOptions.Section] = [typeof(TracingOptions)],
        [RateLimitOptions.Section] = [typeof(RateLimitOptions)],
        [EmulatorOptions.SectionName] = [typeof(EmulatorOptions)],
    };

    // Read by the host or the runtime rather than by an options class. DOTNET_SHUTDOWNTIMEOUTSECONDS is the host's
    // shutdownTimeoutSeconds, kept when longer than MeterAgent:DrainTimeout and the flush after it (ShutdownTimeoutTests).
    private static readonly HashSet<string> HostVariables = new(StringComparer.Ordinal)
    {
        "DOTNET_SHUTDOWNTIMEOUTSECONDS", "DOTNET_NOLOGO", "DOTNET_CLI_TELEMETRY_OPTOUT", "DOTNET_TC_CallCountingDelayMs", "TMPDIR", "ASPNETCORE_URLS",
        TracingOptions.OtlpEndpointVariable,
    };

    /// <summary>Every options class bound from a section.</summary>
    public static IEnumerable<Type> OptionsClasses => Sections.Values.SelectMany(types => types).Distinct();

    /// <summary>Null when the app reads <paramref name="name"/>; else why not.</summary>
    public static string? Problem(string name)
    {
        if (HostVariables.Contains(name))
        {
            return null;
        }

        var path = name.Contains("__", StringComparison.Ordinal) ? name.Split("__") : name.Split(':');
        if (path.Length < 2)
        {
            return $"{name}: not a Section__Key setting nor a known host variable";
        }

        if (path[0].Equals("Logging", StringComparison.OrdinalIgnoreCase))
        {
            return path.Length >= 3 && path[1].Equals("LogLevel", StringComparison.OrdinalIgnoreCase) ? null : $"{name}: only Logging__LogLevel__<category> is expected";
        }

        if (path[0].Equals("ReverseProxy", StringComparison.OrdinalIgnoreCase))
        {
            return InAppSettings(path) ? null : $"{name}: no such path in src/MeterAgent/appsettings.json";
        }

        if (!Sections.TryGetValue(path[0], out var types))
        {
            return $"{name}: no options class is bound from section '{path[0]}'";
        }

        return types.Any(type => Resolves(type, path.AsSpan(1))) ? null : $"{name}: no property path {string.Join(':', path[1..])} in {string.Join(" or ", types.Select(t => t.Name))}";
    }

    private static bool Resolves(Type type, ReadOnlySpan<string> path)
    {
        type = Nullable.GetUnderlyingType(type) ?? type;
        if (path.IsEmpty)
        {
            return IsLeaf(type);
        }

        if (IsLeaf(type))
        {
            return false;
        }

        if (Generic(type, typeof(IDictionary<,>)) is { } dictionary)
        {
            return Resolves(dictionary[1], path[1..]);
        }

        if (Generic(type, typeof(IList<>)) is { } list)
        {
            return int.TryParse(path[0], out _) && Resolves(list[0], path[1..]);
        }

        var property = type.GetProperty(path[0], BindingFlags.Public | BindingFlags.Instance | BindingFlags.IgnoreCase);
        return property is not null && Resolves(property.PropertyType, path[1..]);
    }

    private static bool IsLeaf(Type type) =>
        type.IsPrimitive || type.IsEnum || type == typeof(string) || type == typeof(decimal) || type == typeof(TimeSpan) || type == typeof(Uri);

    private static Type[]? Generic(Type type, Type definition) =>
        type.IsGenericType && type.GetGenericTypeDefinition() == definition
            ? type.GetGenericArguments()
            : type.GetInterfaces().FirstOrDefault(i => i.IsGenericType && i.GetGenericTypeDefinition() == definition)?.GetGenericArguments();

    private static bool InAppSettings(string[] path)
    {
        using var settings = JsonDocument.Parse(File.ReadAllText(Path.Combine(RepoRoot.Path, "src", "MeterAgent", "appsettings.json")));
        var node = settings.RootElement;
        foreach (var segment in path)
        {
            if (node.ValueKind != JsonValueKind.Object)
            {
                return false;
            }

            var next = node.EnumerateObject().FirstOrDefault(p => p.Name.Equals(segment, StringComparison.OrdinalIgnoreCase));
            if (next.Value.ValueKind == JsonValueKind.Undefined)
            {
                return false;
            }

            node = next.Value;
        }

        return node.ValueKind is not (JsonValueKind.Object or JsonValueKind.Array);
    }
}
