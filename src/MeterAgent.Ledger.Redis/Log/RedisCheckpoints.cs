using System.Globalization;
using StackExchange.Redis;

namespace MeterAgent.Ledger.Redis.Log;

/// <summary>A checkpoint as stored in Redis: its size and root, and the note served (signature and cosignatures).</summary>
public sealed record StoredCheckpoint(long Size, byte[] RootHash, string Note);

/// <summary>
/// The latest published checkpoint, shared: the holder stores each one it publishes (fenced, and never smaller, nor
/// another root at the same size); every replica serves the stored one, and a new holder continues from it.
/// </summary>
public sealed class RedisCheckpoints(IConnectionMultiplexer redis, RedisLogKeys keys)
{
    public async Task<StoredCheckpoint?> LoadAsync()
    {
        var values = await redis.GetDatabase().HashGetAsync(keys.Checkpoint, ["size", "root", "note"]);
        return values[0].IsNull
            ? null
            : new StoredCheckpoint(long.Parse((string)values[0]!, NumberStyles.None, CultureInfo.InvariantCulture), (byte[])values[1]!, (string)values[2]!);
    }

    /// <summary>Stores <paramref name="checkpoint"/> as the holder of <paramref name="token"/>.</summary>
    /// <exception cref="LogFencedException">The token is not the latest.</exception>
    /// <exception cref="InvalidOperationException">The stored checkpoint is larger, or has another root at this size.</exception>
    public async Task SaveAsync(StoredCheckpoint checkpoint, long token)
    {
        ArgumentNullException.ThrowIfNull(checkpoint);
        var result = (long)await redis.GetDatabase().ScriptEvaluateAsync(RedisLogScripts.StoreCheckpoint, [keys.Fence, keys.Checkpoint],
            [RedisLogLease.Format(token), checkpoint.Size, checkpoint.RootHash, checkpoint.Note]);
        switch (result)
        {
            case -1:
                throw new LogFencedException();
            case -2:
                throw new InvalidOperationException($"A checkpoint larger than {checkpoint.Size} is stored already: a published size never goes back.");
            case -3:
                throw new InvalidOperationException($"A checkpoint of size {checkpoint.Size} with another root is stored: the log would fork.");
        }
    }
}
