namespace MeterAgent.Common;

/// <summary>How the agent authenticates to one upstream cluster (MeterAgent:Upstreams:{clusterId}).</summary>
public sealed class UpstreamCredential
{
    /// <summary>The provider's key. Prefer the environment: MeterAgent__Upstreams__{clusterId}__ApiKey.</summary>
    public string? ApiKey { get; set; }

    /// <summary>"Bearer" (Authorization header, OpenAI-style) or "XApiKey" (x-api-key header, Anthropic-style).</summary>
    public UpstreamAuthScheme Scheme { get; set; } = UpstreamAuthScheme.Bearer;
}

public enum UpstreamAuthScheme
{
    Bearer,
    XApiKey,
}
