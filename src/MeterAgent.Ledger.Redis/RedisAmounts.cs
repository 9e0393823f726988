using System.Globalization;

namespace MeterAgent.Ledger.Redis;

/// <summary>
/// Money and time as the scripts see them. Lua numbers are IEEE doubles, exact for integers only up to 2^53 − 1, so
/// every amount a caller passes (a delivery, an estimate, an actual, a correction, a policy limit) is refused beyond
/// that, and a script refuses a write whose result would pass it (a lot's delivered amount, an account's overage).
/// 2^53 − 1 micro-units is about nine billion units: far beyond any one lot or request. Redis itself adds with
/// 64-bit integers (HINCRBY, INCRBY), and the scripts write every number as a plain integer string.
/// Timestamps are Unix microseconds, as the SQLite store keeps them (about 1.8e15 today: exact as doubles too).
/// </summary>
internal static class RedisAmounts
{
    /// <summary>2^53 − 1: the largest integer a Lua number holds exactly.</summary>
    public const long MaxMicro = (1L << 53) - 1;

    public static void RequireInRange(long amountMicro, string paramName)
    {
        if (amountMicro is < 0 or > MaxMicro)
        {
            throw new ArgumentOutOfRangeException(paramName, amountMicro, $"Amounts must be between 0 and {MaxMicro} micro-units (2^53-1, exact in the Redis scripts' Lua numbers).");
        }
    }

    public static void RequireDeltaInRange(long deltaMicro, string paramName)
    {
        if (deltaMicro is < -MaxMicro or > MaxMicro)
        {
            throw new ArgumentOutOfRangeException(paramName, deltaMicro, $"A correction must be within ±{MaxMicro} micro-units (2^53-1, exact in the Redis scripts' Lua numbers).");
        }
    }

    public static string Text(long value) => value.ToString(CultureInfo.InvariantCulture);

    public static long Parse(string? value) =>
        long.Parse(value ?? throw new InvalidDataException("A number is missing in Redis."), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
}
