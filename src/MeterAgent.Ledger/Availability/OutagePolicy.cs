namespace MeterAgent.Ledger.Availability;

/// <summary>What the agent does with new metered requests while its shared store (Redis) cannot be reached.</summary>
public enum OutagePolicy
{
    /// <summary>Refuse them with 503 in the API's own shape; requests in flight finish and settle from the outbox later.</summary>
    FailClosed,

    /// <summary>Serve them against a bounded local allowance, journal locally, reconcile when the store returns.</summary>
    FailOpen,
}
