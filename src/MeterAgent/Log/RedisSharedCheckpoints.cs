using MeterAgent.Ledger.Redis.Log;

namespace MeterAgent.Log;

/// <summary>Distributed mode: the checkpoint is shared in Redis, and published only by the log lease's holder, fenced by its token.</summary>
internal sealed class RedisSharedCheckpoints(RedisCheckpoints checkpoints, RedisLogLease lease) : ISharedCheckpoints
{
    public bool CanPublish => lease.IsHolder;

    public async Task<PublishedCheckpoint?> LoadAsync(CancellationToken cancellationToken) =>
        await checkpoints.LoadAsync() is { } stored ? new PublishedCheckpoint(stored.Size, stored.RootHash, stored.Note) : null;

    public async Task SaveAsync(PublishedCheckpoint checkpoint, CancellationToken cancellationToken)
    {
        var token = lease.Token ?? throw new LogFencedException("This replica lost the log lease before its checkpoint was stored.");
        try
        {
            await checkpoints.SaveAsync(new StoredCheckpoint(checkpoint.Size, checkpoint.RootHash, checkpoint.Note), token);
        }
        catch (LogFencedException)
        {
            lease.Drop("the stored checkpoint refused its fencing token");
            throw;
        }
    }
}
