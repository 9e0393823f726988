using MeterAgent.Common;
using MeterAgent.Metering.Surfaces;
using MeterAgent.Proxy;
using Yarp.ReverseProxy.Configuration;

namespace MeterAgent.Hosting;

/// <summary>
/// The proxy's routes and clusters. YARP validates what it needs to build its endpoints, but takes a route to a cluster
/// that does not exist, or a destination address that is not a URL, and fails each request later; and an upstream
/// credential for a cluster nobody routes to is never sent. Each is named here by its key.
/// </summary>
internal static class ProxyConfigurationCheck
{
    private const string Section = "ReverseProxy";

    public static IReadOnlyList<string> Problems(IServiceProvider services)
    {
        IProxyConfig config;
        try
        {
            config = services.GetRequiredService<IProxyConfigProvider>().GetConfig();
        }
        catch (Exception ex) when (ex is InvalidOperationException or FormatException or ArgumentException)
        {
            return [$"{Section}: {ex.GetBaseException().Message}"];
        }

        var problems = new List<string>();
        var validator = services.GetRequiredService<IConfigValidator>();
        var clusters = new HashSet<string>(config.Clusters.Select(c => c.ClusterId), StringComparer.OrdinalIgnoreCase);
        var known = clusters.Count == 0 ? "there are none" : $"there are: {string.Join(", ", clusters.Order(StringComparer.Ordinal))}";
        foreach (var route in config.Routes)
        {
            var key = $"{Section}:Routes:{route.RouteId}";
            // YARP's own validation: what it would refuse when it builds the route (its messages name the route).
            problems.AddRange(validator.ValidateRouteAsync(route).AsTask().GetAwaiter().GetResult().Select(error => $"{key}: {error.Message}"));
            if (route.ClusterId is not { Length: > 0 } clusterId)
            {
                problems.Add($"{key}:ClusterId must name a cluster of {Section}:Clusters ({known}).");
            }
            else if (!clusters.Contains(clusterId))
            {
                problems.Add($"{key}:ClusterId '{clusterId}' names no cluster of {Section}:Clusters ({known}).");
            }

            if (route.Metadata is { } metadata)
            {
                if (metadata.TryGetValue(RouteMetadata.Surface, out var surface) && !ApiSurfaces.TryParseName(surface, out _))
                {
                    var names = Enum.GetValues<ApiSurface>().Where(s => s != ApiSurface.Unknown).Select(s => s.Name());
                    problems.Add($"{key}:Metadata:{RouteMetadata.Surface} must be one of {string.Join(", ", names)}.");
                }

                if (metadata.TryGetValue(RouteMetadata.Unmetered, out var unmetered) && !bool.TryParse(unmetered, out _))
                {
                    problems.Add($"{key}:Metadata:{RouteMetadata.Unmetered} must be true or false.");
                }
            }
        }

        foreach (var cluster in config.Clusters)
        {
            var key = $"{Section}:Clusters:{cluster.ClusterId}";
            problems.AddRange(validator.ValidateClusterAsync(cluster).AsTask().GetAwaiter().GetResult().Select(error => $"{key}: {error.Message}"));
            if (cluster.Destinations is not { Count: > 0 } destinations)
            {
                problems.Add($"{key}:Destinations must list at least one destination (e.g. {key}:Destinations:primary:Address).");
                continue;
            }

            foreach (var (name, destination) in destinations)
            {
                // The address is not printed: it may carry credentials in its user part.
                if (!Uri.TryCreate(destination.Address, UriKind.Absolute, out var address) || (address.Scheme != Uri.UriSchemeHttp && address.Scheme != Uri.UriSchemeHttps))
                {
                    problems.Add($"{key}:Destinations:{name}:Address must be an absolute http or https URL (e.g. https://api.openai.com/).");
                }
            }
        }

        // Read from the configuration, not the options: those may be invalid for another reason (reported already).
        var upstreams = services.GetRequiredService<IConfiguration>().GetSection($"{MeterAgentOptions.Section}:{nameof(MeterAgentOptions.Upstreams)}");
        foreach (var cluster in upstreams.GetChildren().Select(child => child.Key))
        {
            if (!clusters.Contains(cluster))
            {
                problems.Add($"{MeterAgentOptions.Section}:Upstreams:{cluster} names no cluster of {Section}:Clusters ({known}): its key would never be sent.");
            }
        }

        return problems;
    }
}
