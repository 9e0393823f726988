namespace MeterAgent.Ledger.Usage;

public enum UsageStatus
{
    /// <summary>Written ahead, before the request went upstream; not yet closed.</summary>
    Open = 0,

    /// <summary>The upstream answered and the client received the whole response.</summary>
    Completed,

    /// <summary>The client went away before the response ended; metered for what was delivered.</summary>
    ClientAborted,

    /// <summary>The upstream could not be reached, timed out, or broke off the response.</summary>
    UpstreamFailed,

    /// <summary>The upstream answered with an error status (4xx/5xx).</summary>
    UpstreamError,

    /// <summary>Refused by the agent before going upstream (bad input, policy).</summary>
    Rejected,

    /// <summary>
    /// The agent stopped before the request ended: left open by a crash and closed at the next start, or cut by a
    /// graceful stop when its drain time ran out (closed then, with what was delivered). Not charged.
    /// </summary>
    Interrupted,

    /// <summary>The agent itself failed while handling the request (its store, or a bug); the client got a 500 in the API's shape.</summary>
    Failed,
}
