namespace MeterAgent.Ledger.RateLimits;

/// <summary>
/// One limit's state: a token bucket of capacity L (the per-minute limit) that drains continuously at L per minute,
/// kept as its level and when it was last drained. Integer arithmetic in token-milliseconds (a token is
/// <see cref="Scale"/> units; the level drains by L units a millisecond), so admission, refunds and the headers are
/// exact, and the Redis script does the same arithmetic in Lua's doubles without rounding (every value stays below
/// 2^53). Not thread-safe: the caller holds its account's lock.
/// </summary>
internal sealed class TokenBucket
{
    /// <summary>Units of level per token: a minute in milliseconds.</summary>
    public const long Scale = 60_000;

    /// <summary>The level never exceeds this (2^52 units, about 75 billion tokens of debt); a larger charge saturates.</summary>
    public const long MaxLevel = 1L << 52;

    private long _level;
    private long _at;

    public long Level => _level;

    /// <summary>Lets what drained since the last access go, at <paramref name="limit"/> per minute; a clock that went back drains nothing.</summary>
    public void Drain(long nowMs, long limit)
    {
        if (nowMs <= _at)
        {
            return;
        }

        var elapsed = nowMs - _at;
        _at = nowMs;

        // Compared before multiplying: a bucket idle for years must not overflow.
        _level = elapsed >= (_level + limit - 1) / limit ? 0 : _level - (elapsed * limit);
    }

    public static long Units(long tokens) => Math.Clamp(tokens, -MaxLevel / Scale, MaxLevel / Scale) * Scale;

    /// <summary>Whether <paramref name="cost"/> tokens fit under <paramref name="limit"/> now (after <see cref="Drain"/>).</summary>
    public bool Fits(long cost, long limit) => _level + Units(cost) <= limit * Scale;

    /// <summary>Milliseconds until <paramref name="cost"/> tokens fit, for a cost that is at most the limit.</summary>
    public long WaitMs(long cost, long limit) => Math.Max(0, CeilDiv(_level + Units(cost) - (limit * Scale), limit));

    /// <summary>Adds (or, negative, refunds) <paramref name="tokens"/>; the level stays within 0 and <see cref="MaxLevel"/>.</summary>
    public void Add(long tokens) => _level = Math.Clamp(_level + Units(tokens), 0, MaxLevel);

    /// <summary>What a client may still send now, in whole tokens (0 while the bucket is in debt).</summary>
    public long Remaining(long limit) => Math.Max(0, ((limit * Scale) - _level) / Scale);

    /// <summary>Milliseconds until the bucket is empty, the whole limit available again.</summary>
    public long ResetMs(long limit) => CeilDiv(_level, limit);

    public RateLimitWindow Window(long limit) => new(limit, Remaining(limit), TimeSpan.FromMilliseconds(ResetMs(limit)));

    private static long CeilDiv(long value, long divisor) => value <= 0 ? 0 : ((value - 1) / divisor) + 1;
}
