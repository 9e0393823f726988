namespace MeterAgent.LoadHarness;

// Declaration order is the canonical run order: each (scenario, concurrency) runs the chosen targets in this order,
// then in reverse, so drift over the pair of runs falls evenly on every target.
internal enum TargetKind
{
    Direct,
    BareYarp,
    MeterAgent,
    MeterAgentCredits,
    MeterAgentRedisCredits,
}

/// <summary>Where a cell sends its requests, and with which key (the upstream's, or a MeterAgent client key).</summary>
internal sealed record Target(TargetKind Kind, Uri ChatCompletions, string BearerKey);

internal static class TargetNames
{
    /// <summary>The command-line names, in canonical order.</summary>
    public static readonly IReadOnlyList<(string Name, TargetKind Kind)> All =
    [
        ("direct", TargetKind.Direct),
        ("yarp", TargetKind.BareYarp),
        ("agent", TargetKind.MeterAgent),
        ("agent-credits", TargetKind.MeterAgentCredits),
        ("agent-redis", TargetKind.MeterAgentRedisCredits),
    ];

    public static string Display(TargetKind kind) => kind switch
    {
        TargetKind.Direct => "direct (emulator)",
        TargetKind.BareYarp => "bare YARP",
        TargetKind.MeterAgent => "MeterAgent",
        TargetKind.MeterAgentCredits => "MeterAgent + credits",
        TargetKind.MeterAgentRedisCredits => "MeterAgent + credits on Redis",
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    public static TargetKind? Find(string name)
    {
        foreach (var (candidate, kind) in All)
        {
            if (string.Equals(candidate, name, StringComparison.OrdinalIgnoreCase))
            {
                return kind;
            }
        }

        return null;
    }

    public static string Short(TargetKind kind) => All.First(t => t.Kind == kind).Name;
}
