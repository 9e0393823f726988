using MeterAgent.Contracts.Units;
using MeterAgent.Ledger.Credits;
using MeterAgent.Ledger.RateLimits;
using MeterAgent.Ledger.Usage;

namespace MeterAgent.Ledger.Outcomes;

/// <summary>
/// How one metered request ended, decided once and never changed: who, what, when, the counts of each token class, and
/// the status. Every settlement observer sees the same outcome; the usage record is its durable form
/// (<see cref="ToRecord()"/>). While the request is in flight the same type says what is known so far, with status
/// <see cref="UsageStatus.Open"/> and no end: that is its write-ahead record.
/// </summary>
public sealed record RequestOutcome
{
    public required string UsageId { get; init; }

    public required string AccountId { get; init; }

    public required string KeyId { get; init; }

    /// <summary>Surface name, e.g. openai.chat_completions.</summary>
    public required string Surface { get; init; }

    public string? RouteId { get; init; }

    public string? ClusterId { get; init; }

    public string? RequestedModel { get; init; }

    public string? ServedModel { get; init; }

    public bool Stream { get; init; }

    public bool NonTextInput { get; init; }

    public required DateTimeOffset StartedAt { get; init; }

    public DateTimeOffset? FirstTokenAt { get; init; }

    /// <summary>When it ended; null only while it is in flight (status Open).</summary>
    public DateTimeOffset? EndedAt { get; init; }

    public required UsageStatus Status { get; init; }

    /// <summary>HTTP status the client received; null when it left before any.</summary>
    public int? HttpStatus { get; init; }

    /// <summary>Why it failed or was refused (no secrets, no content).</summary>
    public string? Error { get; init; }

    /// <summary>The request reached the upstream: only then can anything have been served.</summary>
    public bool Forwarded { get; init; }

    /// <summary>Reference counts, and native counts when the upstream reported them (null otherwise).</summary>
    public MeteredCounts Counts { get; init; }

    /// <summary>What metering noticed (<see cref="UsageFlags"/>), comma-separated; empty when nothing.</summary>
    public string Flags { get; init; } = string.Empty;

    public string? ReferenceTokenizer { get; init; }

    /// <summary>The credit reservation the request held, to post or void; null without credits or when refused.</summary>
    public Reservation? Reservation { get; init; }

    /// <summary>What the request was charged against its rate limits at admission, to correct; null when none applied or refused.</summary>
    public RateLimitLease? RateLimit { get; init; }

    /// <summary>
    /// Whether the request is charged for what it delivered: it was forwarded, and ended with the whole response or
    /// with the client leaving. An upstream failure or error is the provider's, and a request refused or failed before
    /// the upstream served nothing.
    /// </summary>
    public bool Chargeable => Forwarded && Status is UsageStatus.Completed or UsageStatus.ClientAborted;

    public bool NativeReported => Counts.NativeInput is not null;

    /// <summary>The durable form, before any redemption is known (the ledger fills that in the same write).</summary>
    public UsageRecord ToRecord() => ToRecord(null);

    /// <summary>
    /// The durable form, written into <paramref name="open"/> when given: the request's write-ahead record, which its
    /// store has already read (<see cref="IUsageStore.OpenAsync"/>), so the close costs no second record.
    /// </summary>
    public UsageRecord ToRecord(UsageRecord? open)
    {
        if (open is not null && (open.Id != UsageId || open.AccountId != AccountId || open.KeyId != KeyId || open.Surface != Surface || open.StartedAt != StartedAt))
        {
            throw new ArgumentException($"Record {open.Id} is not the write-ahead record of request {UsageId}.", nameof(open));
        }

        var record = open ?? new UsageRecord { Id = UsageId, AccountId = AccountId, KeyId = KeyId, Surface = Surface, StartedAt = StartedAt };
        record.RouteId = RouteId;
        record.ClusterId = ClusterId;
        record.RequestedModel = RequestedModel;
        record.ServedModel = ServedModel;
        record.Stream = Stream;
        record.FirstTokenAt = FirstTokenAt;
        record.EndedAt = EndedAt;
        record.Status = Status;
        record.HttpStatus = HttpStatus;
        record.Error = Error;
        record.NativeReported = NativeReported;
        record.NativeInputTokens = Counts.NativeInput;
        record.NativeCachedInputTokens = Counts.NativeCachedInput;
        record.NativeCacheWriteTokens = Counts.NativeCacheWrite;
        record.NativeOutputTokens = Counts.NativeOutput;
        record.NativeReasoningTokens = Counts.NativeReasoning;
        record.ReferenceInputTokens = Counts.ReferenceInput;
        record.ReferenceOutputTokens = Counts.ReferenceOutput;
        record.Quality = NativeReported ? "native" : "estimated";
        record.NonTextInput = NonTextInput;
        record.ReferenceTokenizer = ReferenceTokenizer;
        record.Flags = Flags;
        return record;
    }
}
