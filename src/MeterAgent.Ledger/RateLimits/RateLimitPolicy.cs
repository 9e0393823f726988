namespace MeterAgent.Ledger.RateLimits;

/// <summary>
/// Per-minute limits of one account or one key; a null member is no limit of that kind. Tokens are reference tokens
/// (the agent's own count), so every surface and model is limited in the same unit.
/// </summary>
public sealed record RateLimitPolicy(long? TokensPerMinute, long? RequestsPerMinute)
{
    /// <summary>The largest limit accepted: keeps the bucket arithmetic exact in 64-bit integers and Lua's doubles.</summary>
    public const long MaxPerMinute = 1_000_000_000;

    public static readonly RateLimitPolicy Unlimited = new(null, null);

    public bool IsUnlimited => TokensPerMinute is null && RequestsPerMinute is null;

    /// <summary>Why the policy cannot be stored (naming the member as <paramref name="tokensName"/>/<paramref name="requestsName"/>), or null.</summary>
    public string? Problem(string tokensName = "tokens_per_minute", string requestsName = "requests_per_minute") =>
        TokensPerMinute is < 1 or > MaxPerMinute
            ? $"'{tokensName}' must be 1-{MaxPerMinute} or null (no limit)."
            : RequestsPerMinute is < 1 or > MaxPerMinute
                ? $"'{requestsName}' must be 1-{MaxPerMinute} or null (no limit)."
                : null;
}
