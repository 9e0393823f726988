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
    private readonly Lock _adding = new();
    private volatile bool _full;

    public int Capacity { get; } = capacity;

    /// <summary>The value itself while the cap has room or it was seen before; <see cref="Other"/> after.</summary>
    public string Apply(string value)
    {
        if (_seen.TryGetValue(value, out var kept))
        {
            return kept;
        }

        if (_full)
        {
            return Other;
        }

        // A new value is rare (at most Capacity of them are ever kept), so it takes a lock: racing threads then neither
        // keep more than the cap between them nor turn a value away while a place is still free.
        lock (_adding)
        {
            if (_seen.TryGetValue(value, out kept))
            {
                return kept;
            }

            if (_seen.Count >= Capacity)
            {
                _full = true;
                return Other;
            }

            _seen[value] = value;
            return value;
        }
    }
}
