namespace MeterAgent.Shutdown;

/// <summary>
/// One proxied request admitted before the stop, as a feature of its <see cref="HttpContext"/>: the metering step reads
/// <see cref="CutReason"/> to close the record of a request the agent cut as interrupted, not as the client's leaving.
/// </summary>
internal sealed class DrainTicket(HttpContext context)
{
    private volatile string? _cutReason;

    /// <summary>Why the agent ended the request (the drain time ran out), for its record; null while it runs its course.</summary>
    public string? CutReason => _cutReason;

    /// <summary>Marks the request, then aborts its connection: the upstream call is cancelled and the response ends.</summary>
    public void CutOff(string reason)
    {
        _cutReason = reason;
        context.Abort();
    }
}
