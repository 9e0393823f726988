namespace MeterAgent.Common;

/// <summary>Section "MeterAgent:Headers": what may cross the proxy beyond the built-in allow-lists.</summary>
public sealed class HeaderAllowList
{
    /// <summary>Extra client request headers forwarded to the upstream (e.g. "x-my-tenant-hint", "x-vllm-*").</summary>
    public List<string> Request { get; set; } = [];

    /// <summary>Extra upstream response headers forwarded to the client.</summary>
    public List<string> Response { get; set; } = [];
}
