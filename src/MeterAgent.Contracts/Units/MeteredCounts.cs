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
    long? NativeReasoning)
{
    /// <summary>
    /// The upstream reported input and output, and counted less input, or less visible output (output less reasoning),
    /// than the reference count of the same text: a count that must not price the request (<see cref="ContractUnits.Price"/>).
    /// </summary>
    public bool NativeBelowReference =>
        NativeInput is { } input && NativeOutput is { } output
        && (input < ReferenceInput || Math.Max(0, output - (NativeReasoning ?? 0)) < ReferenceOutput);
}
