namespace MeterAgent.Ledger.Sqlite;

/// <summary>
/// Timestamps are stored as INTEGER unix microseconds (UTC): sortable, compact, and readable by any SQLite tool.
/// Sub-microsecond ticks and the offset are not kept; values come back in UTC.
/// </summary>
internal static class SqliteTime
{
    private const long TicksPerMicrosecond = TimeSpan.TicksPerMicrosecond;

    public static long ToUnixMicroseconds(DateTimeOffset value) =>
        (value.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) / TicksPerMicrosecond;

    public static DateTimeOffset FromUnixMicroseconds(long value) =>
        new(DateTimeOffset.UnixEpoch.UtcTicks + (value * TicksPerMicrosecond), TimeSpan.Zero);
}
