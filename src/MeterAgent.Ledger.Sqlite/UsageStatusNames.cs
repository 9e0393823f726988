using MeterAgent.Ledger.Usage;

namespace MeterAgent.Ledger.Sqlite;

/// <summary>
/// The stored names of <see cref="UsageStatus"/>, spelled out rather than derived from the enum so that renaming a
/// member can never silently change what is already on disk.
/// </summary>
internal static class UsageStatusNames
{
    public const string Open = "open";
    public const string Interrupted = "interrupted";

    public static string ToName(UsageStatus status) => status switch
    {
        UsageStatus.Open => Open,
        UsageStatus.Completed => "completed",
        UsageStatus.ClientAborted => "client_aborted",
        UsageStatus.UpstreamFailed => "upstream_failed",
        UsageStatus.UpstreamError => "upstream_error",
        UsageStatus.Rejected => "rejected",
        UsageStatus.Interrupted => Interrupted,
        UsageStatus.Failed => "failed",
        _ => throw new ArgumentOutOfRangeException(nameof(status), status, "Unknown usage status."),
    };

    public static UsageStatus FromName(string name) => name switch
    {
        Open => UsageStatus.Open,
        "completed" => UsageStatus.Completed,
        "client_aborted" => UsageStatus.ClientAborted,
        "upstream_failed" => UsageStatus.UpstreamFailed,
        "upstream_error" => UsageStatus.UpstreamError,
        "rejected" => UsageStatus.Rejected,
        Interrupted => UsageStatus.Interrupted,
        "failed" => UsageStatus.Failed,
        _ => throw new InvalidDataException($"Unknown usage status '{name}' in the store."),
    };
}
