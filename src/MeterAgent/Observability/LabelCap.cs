using System.Collections.Concurrent;

namespace MeterAgent.Observability;

/// <summary>
/// Bounds one label's distinct values: the first <c>capacity</c> values seen are kept as they are, every later one is
/// <see cref="Other"/>. A label value is a time series for ever, in the agent and in every Prometheus that scrapes it,
/// so a client sending a new model name per request must not be able to grow either without limit.
/// </summary>
internal sealed class LabelCap(int capacity)
{
    public const string Other = "other";

    private readonly ConcurrentDictionary<string, string> _seen = new(StringComparer.Ordinal);
    private int _count;

    public int Capacity { get; } = capacity;

    /// <summary>The value itself while the cap has room or it was seen before; <see cref="Other"/> after.</summary>
    public string Apply(string value)
    {
        if (_seen.TryGetValue(value, out var kept))
        {
            return kept;
        }

        // Reserve a place first, so racing threads can never keep more than the cap between them.
        if (Interlocked.Increment(ref _count) > Capacity)
        {
            Interlocked.Decrement(ref _count);
            return Other;
        }

        if (!_seen.TryAdd(value, value))
        {
            // Another thread kept the same value meanwhile: give the place back.
            Interlocked.Decrement(ref _count);
        }

        return value;
    }
}
