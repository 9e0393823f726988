using MeterAgent.Ledger.Credits;
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
}
