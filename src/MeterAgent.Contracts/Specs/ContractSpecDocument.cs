namespace MeterAgent.Contracts.Specs;

/// <summary>
/// A spec file's JSON shape. Every member is nullable so a missing field reaches validation and is reported by name,
/// rather than as a serializer error about a required member.
/// </summary>
internal sealed class ContractSpecDocument
{
    public string? Id { get; set; }

    public int? Version { get; set; }

    public List<string?>? EligibleModels { get; set; }

    public string? UnitBasis { get; set; }

    public WeightsDocument? Weights { get; set; }

    public DeliveryWindowDocument? DeliveryWindow { get; set; }

    public string? SettlementInterval { get; set; }

    internal sealed class WeightsDocument
    {
        public decimal? Input { get; set; }

        public decimal? CachedInput { get; set; }

        public decimal? CacheWrite { get; set; }

        public decimal? Output { get; set; }

        public decimal? Reasoning { get; set; }
    }

    internal sealed class DeliveryWindowDocument
    {
        public string? Start { get; set; }

        public string? End { get; set; }
    }
}
