namespace MeterAgent.Ledger.Usage;

/// <summary>
/// A page of records, newest first. <see cref="Before"/> is the id to continue after (exclusive); <see cref="Status"/>,
/// when given, keeps only records in that state.
/// </summary>
public sealed record UsageQuery(
    string? AccountId = null,
    string? Model = null,
    DateTimeOffset? From = null,
    DateTimeOffset? To = null,
    string? Before = null,
    int Limit = 100,
    UsageStatus? Status = null);
