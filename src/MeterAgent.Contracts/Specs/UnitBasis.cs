namespace MeterAgent.Contracts.Specs;

/// <summary>Which count a contract delivers against.</summary>
public enum UnitBasis
{
    /// <summary>MeterAgent's own o200k_base counts over the canonical text (anyone can recompute them).</summary>
    Reference,

    /// <summary>The upstream's reported usage (falls back to reference counts when the upstream reported none).</summary>
    Native,
}
