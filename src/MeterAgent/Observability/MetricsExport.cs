using System.Diagnostics.Metrics;
using Prometheus;

namespace MeterAgent.Observability;

/// <summary>
/// This host's Prometheus registry: the agent's meter under the contract's names (<see cref="PrometheusBridge"/>),
/// the .NET runtime's meter as prometheus-net's MeterAdapter names it (<c>system_runtime_dotnet_gc_...</c>), and
/// prometheus-net's process and GC collectors. A registry of its own rather than the library's global one, so two
/// agents in one process (tests) never show each other's numbers.
/// </summary>
internal sealed class MetricsExport : IDisposable
{
    /// <summary>The runtime's built-in meter (GC, thread pool, JIT, locks).</summary>
    public const string RuntimeMeterName = "System.Runtime";

    private readonly PrometheusBridge _bridge;
    private readonly IDisposable _runtime;

    public MetricsExport(IMeterFactory meterFactory)
    {
        Registry = Metrics.NewCustomRegistry();
        _bridge = new PrometheusBridge(Registry, instrument =>
            instrument.Meter.Name == MeterAgentMetrics.MeterName && ReferenceEquals(instrument.Meter.Scope, meterFactory));
        _runtime = MeterAdapter.StartListening(new MeterAdapterOptions
        {
            Registry = Registry,
            MetricFactory = Metrics.WithCustomRegistry(Registry),
            InstrumentFilterPredicate = instrument => instrument.Meter.Name == RuntimeMeterName,
        });
        DotNetStats.Register(Registry);

        // The name every Prometheus process dashboard expects; on Linux the working set is the resident set.
        var resident = Metrics.WithCustomRegistry(Registry).CreateGauge("process_resident_memory_bytes", "Resident memory size in bytes.");
        Registry.AddBeforeCollectCallback(() => resident.Set(Environment.WorkingSet));
    }

    public CollectorRegistry Registry { get; }

    public void Dispose()
    {
        _bridge.Dispose();
        _runtime.Dispose();
    }
}
