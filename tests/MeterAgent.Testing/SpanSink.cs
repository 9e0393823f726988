using System.Collections;
using System.Diagnostics;

namespace MeterAgent.Testing;

/// <summary>
/// Where an in-memory span exporter puts what it exports (<c>AddInMemoryExporter(sink)</c>), safe to read while the
/// agent adds to it. Listeners are process-wide, so a sink may also hold other tests' spans: find yours by trace or
/// usage id.
/// </summary>
public sealed class SpanSink : ICollection<Activity>
{
    private readonly Lock _gate = new();
    private readonly List<Activity> _spans = [];

    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _spans.Count;
            }
        }
    }

    public bool IsReadOnly => false;

    /// <summary>What was exported so far.</summary>
    public IReadOnlyList<Activity> Snapshot()
    {
        lock (_gate)
        {
            return [.. _spans];
        }
    }

    /// <summary>The agent's span of one request, once settlement has closed it.</summary>
    public Task<Activity> SpanOfUsageAsync(string usageId) =>
        Eventually.ThatAsync(
            () => Snapshot().FirstOrDefault(span => span.Source.Name == "MeterAgent" && span.GetTagItem("meteragent.usage_id") as string == usageId),
            span => span is not null,
            $"the span of usage {usageId}")!;

    public void Add(Activity item)
    {
        lock (_gate)
        {
            _spans.Add(item);
        }
    }

    public void Clear()
    {
        lock (_gate)
        {
            _spans.Clear();
        }
    }

    public bool Contains(Activity item)
    {
        lock (_gate)
        {
            return _spans.Contains(item);
        }
    }

    public void CopyTo(Activity[] array, int arrayIndex)
    {
        lock (_gate)
        {
            _spans.CopyTo(array, arrayIndex);
        }
    }

    public bool Remove(Activity item)
    {
        lock (_gate)
        {
            return _spans.Remove(item);
        }
    }

    public IEnumerator<Activity> GetEnumerator() => Snapshot().GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
