using MeterAgent.Ledger.Usage;

namespace MeterAgent.Ledger.Sqlite;

/// <summary>
/// A credited request's settle, made durable before its post goes to the shared ledger: which reservation, the amount
/// to post (null voids it), the closed record without its redemption fields (the post's answer fills them), and the
/// reservation's draws as the request was granted them (for audit: the shared ledger's copy is the one posted).
/// </summary>
internal sealed record SettleIntent(
    string UsageId, string ReservationId, string AccountId, long? ActualMicro, UsageRecord Record, string Draws, DateTimeOffset CreatedAt);
