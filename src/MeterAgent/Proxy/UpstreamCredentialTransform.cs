using Microsoft.Extensions.Options;
using Yarp.ReverseProxy.Transforms;
using Yarp.ReverseProxy.Transforms.Builder;
using MeterAgent.Common;

namespace MeterAgent.Proxy;

/// <summary>
/// The client's MeterAgent key must never reach the upstream; the provider's own credential for the cluster replaces it.
/// </summary>
internal static class UpstreamCredentialTransform
{
    public static void Apply(TransformBuilderContext context)
    {
        var options = context.Services.GetRequiredService<IOptionsMonitor<MeterAgentOptions>>();
        var clusterId = context.Cluster?.ClusterId;
        BearerHeader? bearer = null;
        context.AddRequestTransform(transform =>
        {
            var headers = transform.ProxyRequest.Headers;
            headers.Authorization = null;
            headers.Remove("x-api-key");
            if (clusterId is not null
                && options.CurrentValue.Upstreams.TryGetValue(clusterId, out var credential)
                && credential.ApiKey is { Length: > 0 } apiKey)
            {
                if (credential.Scheme == UpstreamAuthScheme.XApiKey)
                {
                    headers.TryAddWithoutValidation("x-api-key", apiKey);
                }
                else
                {
                    // Built once per key, not per request; a reloaded key builds it again.
                    var current = bearer;
                    if (current is null || !ReferenceEquals(current.ApiKey, apiKey))
                    {
                        bearer = current = new BearerHeader(apiKey, "Bearer " + apiKey);
                    }

                    headers.TryAddWithoutValidation("Authorization", current.Value);
                }
            }

            return ValueTask.CompletedTask;
        });
    }

    private sealed record BearerHeader(string ApiKey, string Value);
}
