using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;

namespace MeterAgent.Common;

/// <summary>
/// Management endpoints answer only on the management listener, and client traffic only on the proxy listener.
/// The listener marks its connections, so this holds whatever ports (or port 0) the operator picks.
/// </summary>
internal static class ManagementListener
{
    private static readonly object Marker = new();

    public static void Mark(ConnectionContext connection) => connection.Items[Marker] = Marker;

    public static bool IsManagementConnection(HttpContext context) =>
        context.Features.Get<IConnectionItemsFeature>()?.Items.ContainsKey(Marker) == true;

    /// <summary>Endpoint metadata: this endpoint belongs to the management port.</summary>
    public sealed class EndpointMarker
    {
        public static readonly EndpointMarker Instance = new();
    }

    public static TBuilder OnManagementPort<TBuilder>(this TBuilder builder)
        where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(EndpointMarker.Instance);

    public static bool IsManagementEndpoint(HttpContext context) =>
        context.GetEndpoint()?.Metadata.GetMetadata<EndpointMarker>() is not null;

    /// <summary>Endpoint metadata: public, read-only facts both audiences need (a log's keys), served on either port.</summary>
    public sealed class EitherPortMarker
    {
        public static readonly EitherPortMarker Instance = new();
    }

    public static TBuilder OnEitherPort<TBuilder>(this TBuilder builder)
        where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(EitherPortMarker.Instance);

    public static bool IsEitherPortEndpoint(HttpContext context) =>
        context.GetEndpoint()?.Metadata.GetMetadata<EitherPortMarker>() is not null;
}
