namespace MeterAgent.Ledger.Availability;

/// <summary>
/// Whether the shared store (Redis in distributed mode) can be reached now, and what to do when it cannot. The embedded
/// store has nothing shared: <see cref="AlwaysAvailable"/>.
/// </summary>
public interface IStoreAvailability
{
    /// <summary>False from the moment a connection failure is seen until the connection is restored.</summary>
    bool IsAvailable { get; }

    OutagePolicy Policy { get; }

    /// <summary>How long a refused client is told to wait (the <c>retry-after</c> header).</summary>
    TimeSpan RetryAfter { get; }

    /// <summary>Whether <paramref name="exception"/> says the shared store is unreachable (not a bug or a refusal).</summary>
    bool IsOutage(Exception exception);

    /// <summary>A call failed with an outage: the store counts as unavailable until its connection is restored.</summary>
    void Report(Exception exception);
}
