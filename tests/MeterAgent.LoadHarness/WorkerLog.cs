namespace MeterAgent.LoadHarness;

/// <summary>
/// One worker's measurements, in arrays sized before the measured window opens, so the generator's own bookkeeping
/// does not show up in the allocation counts.
/// </summary>
internal sealed class WorkerLog(int capacity)
{
    private long[] _latency = new long[capacity];
    private long[] _ttft = new long[capacity];

    public int Count { get; private set; }

    public int TtftCount { get; private set; }

    public long Errors { get; set; }

    public string? LastError { get; set; }

    public ReadOnlySpan<long> Latency => _latency.AsSpan(0, Count);

    public ReadOnlySpan<long> Ttft => _ttft.AsSpan(0, TtftCount);

    public void Add(long latencyTicks, long ttftTicks)
    {
        if (Count == _latency.Length)
        {
            Array.Resize(ref _latency, _latency.Length * 2);
        }

        _latency[Count++] = latencyTicks;
        if (ttftTicks > 0)
        {
            if (TtftCount == _ttft.Length)
            {
                Array.Resize(ref _ttft, _ttft.Length * 2);
            }

            _ttft[TtftCount++] = ttftTicks;
        }
    }
}
