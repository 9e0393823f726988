namespace MeterAgent.Contracts.Units;

/// <summary>A request's units in micro-units, and which counts priced them (kept on its usage record).</summary>
public readonly record struct PricedUnits(long Micro, string Basis)
{
    /// <summary>A reference-basis contract: reference counts (plus native reasoning, which text cannot show).</summary>
    public const string Reference = "reference";

    /// <summary>A native-basis contract: the upstream's counts, each at least the reference count.</summary>
    public const string Native = "native";

    /// <summary>A native-basis contract whose upstream counts were below the reference count of what was delivered, which was priced instead.</summary>
    public const string NativeFloored = "native_floored";

    /// <summary>A native-basis contract, but the upstream reported no usage: reference counts.</summary>
    public const string ReferenceFallback = "reference_fallback";
}
