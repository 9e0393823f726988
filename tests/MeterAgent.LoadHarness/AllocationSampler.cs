using System.Collections.Concurrent;
using System.Diagnostics.Tracing;

namespace MeterAgent.LoadHarness;

/// <summary>
/// <c>--alloc-types</c>: where a cell's allocation goes, by type. The runtime's GC AllocationTick event fires about
/// once per 100 KB allocated on a thread and names the type that crossed the mark, so the counts are a sample
/// proportional to bytes; scaled by the exact total (<see cref="GC.GetTotalAllocatedBytes(bool)"/>) they estimate bytes
/// per request by type. The generator's own allocation is in the sample too: compare with the direct cell's.
/// </summary>
internal sealed class AllocationSampler : EventListener
{
    private const EventKeywords GcKeyword = (EventKeywords)0x1;
    private const int AllocationTickEventId = 10;

    private readonly ConcurrentDictionary<string, long> _bytes = new(StringComparer.Ordinal);
    private volatile bool _recording;

    public void Start()
    {
        _bytes.Clear();
        _recording = true;
    }

    /// <summary>The sampled bytes by type, largest first, scaled so they add up to <paramref name="totalBytes"/>.</summary>
    public IReadOnlyList<(string Type, double Bytes)> Stop(long totalBytes)
    {
        _recording = false;
        var sampled = _bytes.Values.Sum();
        return sampled == 0
            ? []
            : [.. _bytes.OrderByDescending(p => p.Value).Select(p => (p.Key, (double)p.Value / sampled * totalBytes))];
    }

    protected override void OnEventSourceCreated(EventSource eventSource)
    {
        if (eventSource.Name == "Microsoft-Windows-DotNETRuntime")
        {
            EnableEvents(eventSource, EventLevel.Verbose, GcKeyword);
        }
    }

    protected override void OnEventWritten(EventWrittenEventArgs eventData)
    {
        if (!_recording || eventData.EventId != AllocationTickEventId || eventData.PayloadNames is not { } names || eventData.Payload is not { } payload)
        {
            return;
        }

        var type = names.IndexOf("TypeName") is var t and >= 0 ? payload[t] as string ?? "?" : "?";
        var amount = names.IndexOf("AllocationAmount64") is var a and >= 0 ? Convert.ToInt64(payload[a], System.Globalization.CultureInfo.InvariantCulture) : 100_000;
        _bytes.AddOrUpdate(type, amount, (_, v) => v + amount);
    }
}
