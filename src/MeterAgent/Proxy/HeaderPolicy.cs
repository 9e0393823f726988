using System.Collections.Frozen;
using Microsoft.Extensions.Options;
using Yarp.ReverseProxy.Transforms;
using Yarp.ReverseProxy.Transforms.Builder;
using MeterAgent.Common;

namespace MeterAgent.Proxy;

/// <summary>
/// Allow-lists for what crosses the proxy in each direction. A client header that carries credentials or tenancy at
/// the upstream (OpenAI-Organization, OpenAI-Project, api-key, Cookie) must not ride along beside the provider's key,
/// and an upstream's cookies, organization or a forged x-meteragent-* header must not reach the client. Only what an
/// SDK needs for the API itself passes; operators add more with <see cref="HeaderAllowList"/>.
/// </summary>
/// <remarks>
/// Content-Length, Host, hop-by-hop headers and the credentials are YARP's and <see cref="UpstreamCredentialTransform"/>'s
/// business; X-Forwarded-* and Forwarded are left to YARP's X-Forwarded transform, which by default replaces whatever
/// the client sent with what the agent saw.
/// </remarks>
internal sealed class HeaderPolicy
{
    public static readonly string[] DefaultRequest =
    [
        "accept", "content-type", "content-length", "user-agent", "idempotency-key",
        "openai-beta", "anthropic-version", "anthropic-beta", "x-stainless-*",
        "traceparent", "tracestate", "baggage",
    ];

    public static readonly string[] DefaultResponse =
    [
        "content-type", "content-length", "cache-control", "retry-after", "retry-after-ms",
        "x-request-id", "request-id", "openai-processing-ms", "openai-version",
        "x-ratelimit-*", "anthropic-ratelimit-*",
    ];

    private static readonly string[] LeftToYarp = ["x-forwarded-*", "forwarded", "authorization", "x-api-key", "host"];

    private readonly Matcher _request;
    private readonly Matcher _response;

    public HeaderPolicy(HeaderAllowList extra)
    {
        _request = new Matcher([.. DefaultRequest, .. LeftToYarp, .. extra.Request]);
        _response = new Matcher([.. DefaultResponse, .. extra.Response]);
    }

    public bool AllowsRequest(string name) => _request.Matches(name);

    public bool AllowsResponse(string name) =>
        _response.Matches(name) && !name.StartsWith("x-meteragent-", StringComparison.OrdinalIgnoreCase);

    public static void Apply(TransformBuilderContext context)
    {
        var policy = new HeaderPolicy(context.Services.GetRequiredService<IOptions<MeterAgentOptions>>().Value.Headers);
        context.AddRequestTransform(transform =>
        {
            // Each header the client sent that the policy does not allow leaves the proxy request. The names are read
            // from the proxy request's own store (Kestrel's header enumerator is boxed on every request), and a header
            // an earlier transform added is left alone: only the client's are checked.
            var clientHeaders = transform.HttpContext.Request.Headers;
            var proxyRequest = transform.ProxyRequest;
            RemoveDisallowed(policy, proxyRequest.Headers, clientHeaders);
            if (proxyRequest.Content is { } content)
            {
                RemoveDisallowed(policy, content.Headers, clientHeaders);
            }

            return ValueTask.CompletedTask;
        });

        context.AddResponseTransform(transform =>
        {
            if (transform.ProxyResponse is not { } proxyResponse)
            {
                return ValueTask.CompletedTask;
            }

            var headers = transform.HttpContext.Response.Headers;
            Drop(policy, proxyResponse.Headers, headers);
            Drop(policy, proxyResponse.Content.Headers, headers);

            // An upstream's x-meteragent-usage-id was appended to ours and went with it: ours is put back.
            if (transform.HttpContext.Features.Get<MeteringFeature>() is { } metering)
            {
                headers[MeteringMiddleware.UsageIdHeader] = metering.UsageId;
            }

            return ValueTask.CompletedTask;
        });
    }

    private static void RemoveDisallowed(HeaderPolicy policy, System.Net.Http.Headers.HttpHeaders proxied, IHeaderDictionary fromClient)
    {
        // Removing shifts the store, so the scan starts again after each removal (a request has a handful of headers).
        while (FirstDisallowed(policy, proxied, fromClient) is { } name && proxied.Remove(name))
        {
        }
    }

    private static string? FirstDisallowed(HeaderPolicy policy, System.Net.Http.Headers.HttpHeaders proxied, IHeaderDictionary fromClient)
    {
        foreach (var header in proxied.NonValidated)
        {
            if (!policy.AllowsRequest(header.Key) && fromClient.ContainsKey(header.Key))
            {
                return header.Key;
            }
        }

        return null;
    }

    private static void Drop(HeaderPolicy policy, System.Net.Http.Headers.HttpHeaders upstream, IHeaderDictionary toClient)
    {
        foreach (var header in upstream.NonValidated)
        {
            if (!policy.AllowsResponse(header.Key))
            {
                toClient.Remove(header.Key);
            }
        }
    }

    /// <summary>Exact names and '*'-suffixed prefixes, case-insensitive.</summary>
    private sealed class Matcher
    {
        private readonly FrozenSet<string> _names;
        private readonly string[] _prefixes;

        public Matcher(IEnumerable<string> patterns)
        {
            var names = new List<string>();
            var prefixes = new List<string>();
            foreach (var pattern in patterns)
            {
                var trimmed = pattern.Trim();
                if (trimmed.EndsWith('*'))
                {
                    prefixes.Add(trimmed[..^1]);
                }
                else if (trimmed.Length > 0)
                {
                    names.Add(trimmed);
                }
            }

            _names = names.ToFrozenSet(StringComparer.OrdinalIgnoreCase);
            _prefixes = [.. prefixes];
        }

        public bool Matches(string name)
        {
            if (_names.Contains(name))
            {
                return true;
            }

            foreach (var prefix in _prefixes)
            {
                if (name.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
                {
                    return true;
                }
            }

            return false;
        }
    }
}
