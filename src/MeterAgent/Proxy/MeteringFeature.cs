using MeterAgent.Ledger.Credits;
using MeterAgent.Ledger.Outcomes;
using MeterAgent.Ledger.Usage;

namespace MeterAgent.Proxy;

/// <summary>
/// One metered request's state on its <see cref="HttpContext"/> (as YARP's IReverseProxyFeature), so transforms and
/// other middleware can read the record id and what the request holds.
/// </summary>
internal sealed class MeteringFeature(UsageRecord record)
{
    public UsageRecord Record { get; } = record;

    /// <summary>The credit reservation the request holds until it ends; null without credits or before it is granted.</summary>
    public Reservation? Reservation { get; set; }

    /// <summary>The record's end has been decided (closed, or handed to settlement): no other path may end it again.</summary>
    public bool Ended { get; set; }

    /// <summary>
    /// The request's outcome from what was learnt of it before it went upstream; a request that was forwarded adds its
    /// counts, served model and timings (a <c>with</c> expression). Counts default to the reference input known so far.
    /// </summary>
    public RequestOutcome Conclude(UsageStatus status, int? httpStatus, string? error, DateTimeOffset endedAt) => new()
    {
        UsageId = Record.Id,
        AccountId = Record.AccountId,
        KeyId = Record.KeyId,
        Surface = Record.Surface,
        RouteId = Record.RouteId,
        ClusterId = Record.ClusterId,
        RequestedModel = Record.RequestedModel,
        Stream = Record.Stream,
        NonTextInput = Record.NonTextInput,
        StartedAt = Record.StartedAt,
        EndedAt = endedAt,
        Status = status,
        HttpStatus = httpStatus,
        Error = error,
        Counts = new(Record.ReferenceInputTokens, 0, null, null, null, null, null),
        ReferenceTokenizer = Record.ReferenceTokenizer,
        Reservation = Reservation,
    };
}
