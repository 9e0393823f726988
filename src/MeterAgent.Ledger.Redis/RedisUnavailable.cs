using MeterAgent.Ledger.Availability;
using StackExchange.Redis;

namespace MeterAgent.Ledger.Redis;

/// <summary>The failure a call gets at once when Redis is already known to be unreachable, and what such failures look like.</summary>
internal static class RedisUnavailable
{
    /// <summary>
    /// A call failed because its connection did: a Redis connection error or timeout, or the client's socket pipe
    /// refusing a write after the connection closed under it (StackExchange.Redis lets System.IO.Pipelines'
    /// <see cref="InvalidOperationException"/> through when Redis goes away mid-write). A background loop that retries
    /// on its next pass treats them alike; before, the pipe's exception ended the loop and, with it, the host.
    /// </summary>
    public static bool IsConnectionFailure(Exception exception) =>
        exception is RedisException or TimeoutException || IsClosedPipe(exception);

    /// <summary>The client's socket pipe refused a write: its connection closed under it.</summary>
    public static bool IsClosedPipe(Exception exception) => exception is InvalidOperationException { Source: "System.IO.Pipelines" };

    public static void ThrowIfDown(IStoreAvailability? availability)
    {
        if (availability is { IsAvailable: false })
        {
            throw new RedisConnectionException(ConnectionFailureType.UnableToConnect, "Redis is unavailable (known down; not waiting for the backlog timeout).");
        }
    }
}
