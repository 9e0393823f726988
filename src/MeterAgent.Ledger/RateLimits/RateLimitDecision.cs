namespace MeterAgent.Ledger.RateLimits;

/// <summary>The answer to one admission: allowed or not, and the state of each kind of limit that applies.</summary>
public sealed class RateLimitDecision
{
    /// <summary>No limit applies: nothing was charged and there is nothing to report or settle.</summary>
    public static readonly RateLimitDecision Unlimited = new(true, null, null, null, null, null);

    public RateLimitDecision(bool allowed, TimeSpan? retryAfter, RateLimitWindow? tokens, RateLimitWindow? requests, RateLimitLease? lease, string? refusal)
    {
        Allowed = allowed;
        RetryAfter = retryAfter;
        Tokens = tokens;
        Requests = requests;
        Lease = lease;
        Refusal = refusal;
    }

    public bool Allowed { get; }

    /// <summary>
    /// When refused: how long until the same request would fit. Null when it never can (its estimate alone is larger
    /// than a token limit), or when allowed.
    /// </summary>
    public TimeSpan? RetryAfter { get; }

    /// <summary>The token limit that binds; null when none applies.</summary>
    public RateLimitWindow? Tokens { get; }

    /// <summary>The request limit that binds; null when none applies.</summary>
    public RateLimitWindow? Requests { get; }

    /// <summary>What was charged, to settle; null when refused or unlimited.</summary>
    public RateLimitLease? Lease { get; }

    /// <summary>Which limit refused, for the client's message (e.g. "tokens per minute of the account"); null when allowed.</summary>
    public string? Refusal { get; }

    public bool Limited => Tokens is not null || Requests is not null;
}
