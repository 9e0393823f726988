namespace MeterAgent.Contracts.Units;

/// <summary>
/// The counts a usage record holds, as contract-unit inputs. Native counts follow the OpenTelemetry GenAI convention:
/// input includes cached reads and cache writes, output includes reasoning. Null native counts: the upstream reported none.
/// </summary>
public readonly record struct MeteredCounts(
    long ReferenceInput,
    long ReferenceOutput,
    long? NativeInput,
    long? NativeCachedInput,
    long? NativeCacheWrite,
    long? NativeOutput,
    long? NativeReasoning);
