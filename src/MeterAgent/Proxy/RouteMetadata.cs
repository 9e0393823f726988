using MeterAgent.Metering.Surfaces;
using Yarp.ReverseProxy.Configuration;

namespace MeterAgent.Proxy;

/// <summary>Per-route settings an operator puts in a YARP route's Metadata.</summary>
internal static class RouteMetadata
{
    /// <summary>Names the surface explicitly (e.g. "openai.chat_completions") when the path alone does not say it.</summary>
    public const string Surface = "MeterAgent.Surface";

    /// <summary>"true": forward this non-inference route (e.g. /v1/models) unmetered, still behind client keys.</summary>
    public const string Unmetered = "MeterAgent.Unmetered";

    public static ApiSurface ResolveSurface(RouteConfig route, PathString path)
    {
        if (route.Metadata is { } metadata
            && metadata.TryGetValue(Surface, out var name)
            && ApiSurfaces.TryParseName(name, out var configured))
        {
            return configured;
        }

        return ApiSurfaces.FromPath(path.Value);
    }

    public static bool AllowsUnmetered(RouteConfig route) =>
        route.Metadata is { } metadata
        && metadata.TryGetValue(Unmetered, out var value)
        && bool.TryParse(value, out var allowed)
        && allowed;
}
