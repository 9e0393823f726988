namespace MeterAgent.Proxy;

/// <summary>The client's MeterAgent key, as OpenAI SDKs send it (Authorization: Bearer) or Anthropic SDKs (x-api-key).</summary>
internal static class ClientCredentials
{
    public static string? Extract(HttpRequest request)
    {
        var authorization = request.Headers.Authorization.ToString();
        if (authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            var token = authorization.AsSpan(7).Trim();
            if (!token.IsEmpty)
            {
                return token.ToString();
            }
        }

        var apiKey = request.Headers["x-api-key"].ToString();
        return string.IsNullOrWhiteSpace(apiKey) ? null : apiKey.Trim();
    }
}
