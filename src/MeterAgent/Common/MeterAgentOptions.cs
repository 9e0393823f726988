namespace MeterAgent.Common;

/// <summary>The agent's own settings, section "MeterAgent".</summary>
public sealed class MeterAgentOptions
{
    public const string Section = "MeterAgent";

    /// <summary>Address both listeners bind to. 127.0.0.1 by default; 0.0.0.0 in a container.</summary>
    public string ListenAddress { get; set; } = "127.0.0.1";

    /// <summary>Client traffic (the OpenAI/Anthropic APIs).</summary>
    public int ProxyPort { get; set; } = 8080;

    /// <summary>Health, admin API (and later metrics): never exposed to clients.</summary>
    public int ManagementPort { get; set; } = 9090;

    /// <summary>Bearer token for the admin API. Unset: the admin API answers 403 to everyone.</summary>
    public string? AdminToken { get; set; }

    /// <summary>Largest request body accepted on metered routes; larger ones get 413 in the API's error shape.</summary>
    public long MaxRequestBodyBytes { get; set; } = 8 * 1024 * 1024;

    /// <summary>Upstream credentials per YARP cluster id; they replace whatever credential the client sent.</summary>
    public Dictionary<string, UpstreamCredential> Upstreams { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>
    /// Headers that may cross the proxy beyond the built-in allow-lists (README, "Headers"): names, or prefixes ending
    /// in '*'. Everything else a client or an upstream sends is dropped.
    /// </summary>
    public HeaderAllowList Headers { get; set; } = new();

    /// <summary>TLS, and mutual TLS, on the management port (off by default).</summary>
    public ManagementTlsOptions ManagementTls { get; set; } = new();

    /// <summary>TLS on the client port (off by default).</summary>
    public ProxyTlsOptions ProxyTls { get; set; } = new();

    /// <summary>
    /// Failed authentications a source address may make in a minute (bad client key, admin or read token) before its
    /// requests are refused with 429 until the window slides; 0 turns the throttle off.
    /// </summary>
    public int AuthFailureLimit { get; set; } = 20;
}
