namespace MeterAgent.LoadHarness;

internal enum TargetKind
{
    Direct,
    BareYarp,
    MeterAgent,
}

/// <summary>Where a cell sends its requests, and with which key (the upstream's, or a MeterAgent client key).</summary>
internal sealed record Target(TargetKind Kind, Uri ChatCompletions, string BearerKey);
