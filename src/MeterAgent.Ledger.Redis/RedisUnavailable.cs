using MeterAgent.Ledger.Availability;
using StackExchange.Redis;

namespace MeterAgent.Ledger.Redis;

/// <summary>The failure a call gets at once when Redis is already known to be unreachable.</summary>
internal static class RedisUnavailable
{
    public static void ThrowIfDown(IStoreAvailability? availability)
    {
        if (availability is { IsAvailable: false })
        {
            throw new RedisConnectionException(ConnectionFailureType.UnableToConnect, "Redis is unavailable (known down; not waiting for the backlog timeout).");
        }
    }
}
