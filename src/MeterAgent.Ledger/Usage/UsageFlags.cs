namespace MeterAgent.Ledger.Usage;

/// <summary>The names a <see cref="UsageRecord.Flags"/> list may hold, and how the list is written.</summary>
public static class UsageFlags
{
    /// <summary>The upstream's usage was a placeholder, not its final word (a stream cut before Anthropic's message_delta).</summary>
    public const string NativeNotFinal = "native_not_final";

    /// <summary>The upstream reported a negative, absurd or inconsistent count; it was clamped.</summary>
    public const string NativeSuspect = "native_suspect";

    /// <summary>The upstream's count of some class was below the reference count of what was delivered; the reference count was billed.</summary>
    public const string NativeBelowReference = "native_below_reference";

    /// <summary>The response passed a metering buffer bound: it was forwarded whole, but metered from what fit.</summary>
    public const string Truncated = "truncated";

    /// <summary>Comma-separated, sorted, without duplicates: the same set always reads the same.</summary>
    public static string Join(IEnumerable<string> flags)
    {
        ArgumentNullException.ThrowIfNull(flags);
        var set = new SortedSet<string>(flags, StringComparer.Ordinal);
        return string.Join(',', set);
    }
}
