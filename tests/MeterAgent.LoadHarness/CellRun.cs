namespace MeterAgent.LoadHarness;

/// <summary>One measured run of one target under one scenario and concurrency (a cell runs twice, in mirrored order).</summary>
internal sealed record CellRun(
    TargetKind Target,
    ScenarioKind Scenario,
    int Concurrency,
    long Requests,
    long Errors,
    string? LastError,
    TimeSpan Elapsed,
    long[] LatencyTicks,
    long[] TtftTicks,
    long AllocatedBytes,
    TimeSpan CpuTime,
    int Gen0,
    int Gen1,
    int Gen2)
{
    public double Throughput => Requests / Elapsed.TotalSeconds;
}
