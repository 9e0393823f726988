namespace MeterAgent.Log;

/// <summary>
/// Where the published checkpoint lives beyond this process, and whether this process may publish. Embedded mode:
/// nowhere, and always (<see cref="LocalCheckpoints"/>): the one process is the log's only writer. Distributed mode:
/// in Redis, and only while this replica holds the log lease; the others serve the stored checkpoint.
/// </summary>
internal interface ISharedCheckpoints
{
    /// <summary>Whether this process signs checkpoints and closes statements now.</summary>
    bool CanPublish { get; }

    /// <summary>The latest checkpoint published by whichever process publishes; null when none is shared.</summary>
    Task<PublishedCheckpoint?> LoadAsync(CancellationToken cancellationToken);

    /// <summary>Shares a checkpoint this process published; throws when it may no longer publish (it is not served then).</summary>
    Task SaveAsync(PublishedCheckpoint checkpoint, CancellationToken cancellationToken);
}

/// <summary>One process writes the log: it always publishes, and keeps its checkpoint in memory only.</summary>
internal sealed class LocalCheckpoints : ISharedCheckpoints
{
    public bool CanPublish => true;

    public Task<PublishedCheckpoint?> LoadAsync(CancellationToken cancellationToken) => Task.FromResult<PublishedCheckpoint?>(null);

    public Task SaveAsync(PublishedCheckpoint checkpoint, CancellationToken cancellationToken) => Task.CompletedTask;
}
