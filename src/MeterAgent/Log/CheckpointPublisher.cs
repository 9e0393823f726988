using System.Text;
using MeterAgent.Attestation.Checkpoints;
using MeterAgent.Attestation.Notes;
using MeterAgent.Observability;

namespace MeterAgent.Log;

/// <summary>
/// Publishes the log's checkpoints: catches the tree up, signs the checkpoint with the log key, has the witnesses
/// cosign it, and keeps it as the one everything is served against (tiles, proofs, statements). Publishing is
/// serialized and never goes back: a published size only grows, so every published checkpoint is consistent with the
/// ones before it and a reader never sees the log shrink.
/// </summary>
internal sealed partial class CheckpointPublisher
{
    private readonly UsageLogTree _tree;
    private readonly LogKeys _keys;
    private readonly ICheckpointWitnesses _witnesses;
    private readonly ISharedCheckpoints _shared;
    private readonly IHostApplicationLifetime _lifetime;
    private readonly ILogger<CheckpointPublisher> _logger;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private volatile PublishedCheckpoint? _current;

    public CheckpointPublisher(
        UsageLogTree tree, LogKeys keys, ICheckpointWitnesses witnesses, IHostApplicationLifetime lifetime, MeterAgentMetrics metrics,
        ILogger<CheckpointPublisher> logger, ISharedCheckpoints? shared = null)
    {
        _shared = shared ?? new LocalCheckpoints();
        _tree = tree;
        _keys = keys;
        _witnesses = witnesses;
        _lifetime = lifetime;
        _logger = logger;
        metrics.Gauge("meteragent.log.published_size", "{entry}", "Tree size of the latest published checkpoint.", () => _current?.Size ?? 0);
    }

    /// <summary>Whether the log is signed at all (Attestation:SigningKeyPath); without a key nothing is published.</summary>
    public bool IsEnabled => _keys.Signer is not null;

    /// <summary>The latest published checkpoint; null before the first.</summary>
    public PublishedCheckpoint? Current => _current;

    /// <summary>The latest published checkpoint, publishing the first one if there is none yet.</summary>
    public async Task<PublishedCheckpoint> LatestAsync(CancellationToken cancellationToken) =>
        _current ?? await PublishAsync(0, cancellationToken);

    /// <summary>
    /// A published checkpoint of at least <paramref name="minSize"/> entries: the current one if it is that large,
    /// otherwise a new one over every entry the store holds now. The store may hold fewer than
    /// <paramref name="minSize"/>; then the result is the newest there is, and the caller checks its size.
    /// </summary>
    /// <remarks>
    /// <paramref name="cancellationToken"/> stops the wait for another caller's publication, not a publication under
    /// way: witnesses may already have cosigned it, and another waiter may be waiting for the same one.
    /// </remarks>
    public async Task<PublishedCheckpoint> PublishAsync(long minSize, CancellationToken cancellationToken)
    {
        if (_current is { } current && current.Size >= minSize)
        {
            return current;
        }

        await _gate.WaitAsync(cancellationToken);
        try
        {
            // Another caller may have published what this one waited for.
            return _current is { } published && published.Size >= minSize ? published : await PublishLockedAsync();
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Publishes a new checkpoint if the store holds entries the current one does not (the periodic publication).</summary>
    public async Task PublishIfGrownAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            await PublishLockedAsync();
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task<PublishedCheckpoint> PublishLockedAsync()
    {
        var signer = _keys.Signer ?? throw new InvalidOperationException("The usage log has no signing key (Attestation:SigningKeyPath).");
        var stopping = _lifetime.ApplicationStopping;

        // Distributed mode: another replica may have published since (this one follows, or it has just taken over).
        await AdoptSharedAsync(stopping);
        if (!_shared.CanPublish)
        {
            return _current ?? throw new InvalidOperationException("No checkpoint is published yet: the replica holding the log lease publishes the first.");
        }

        var size = await _tree.CatchUpAsync(stopping);
        if (_current is { } current && size <= current.Size)
        {
            // Nothing new (the tree never shrinks, so never smaller): the current checkpoint stands, not re-signed.
            return current;
        }

        var root = _tree.RootHash(size);
        var signed = SignedNote.Sign(new Checkpoint(signer.Name, size, root).Format(), signer).ToString();
        var cosignatures = await _witnesses.CosignAsync(signed, size, _tree, stopping);
        var published = new PublishedCheckpoint(size, root, WithCosignatures(signed, cosignatures));
        await _shared.SaveAsync(published, stopping);
        _current = published;
        LogPublished(size, cosignatures.Count);
        return published;
    }

    /// <summary>
    /// Takes the shared checkpoint as current when it is newer than this process's and the tree has reached it with
    /// the same root: tiles and proofs are then served against it, and a publication continues from it (never smaller).
    /// </summary>
    private async Task AdoptSharedAsync(CancellationToken cancellationToken)
    {
        if (await _shared.LoadAsync(cancellationToken) is not { } shared || (_current is { } current && shared.Size <= current.Size))
        {
            return;
        }

        // The entries are in the shared log before a checkpoint names them; short of them, the next call tries again.
        if (await _tree.CatchUpAsync(cancellationToken) < shared.Size)
        {
            return;
        }

        if (!_tree.RootHash(shared.Size).AsSpan().SequenceEqual(shared.RootHash))
        {
            throw new InvalidOperationException($"The shared checkpoint of size {shared.Size} has another root than this replica's tree over the shared log.");
        }

        _current = shared;
    }

    /// <summary>
    /// The note with the witnesses' lines appended, if together they still read as one signed note; otherwise the log's
    /// signature alone, since a malformed line would make every reader refuse the whole checkpoint.
    /// </summary>
    private string WithCosignatures(string signed, IReadOnlyList<string> cosignatures)
    {
        if (cosignatures.Count == 0)
        {
            return signed;
        }

        var note = signed + string.Concat(cosignatures);
        try
        {
            if (SignedNote.Parse(Encoding.UTF8.GetBytes(note)).Signatures.Count == 1 + cosignatures.Count)
            {
                return note;
            }
        }
        catch (NoteRejectedException)
        {
            // Reported below.
        }

        LogMalformedCosignatures(cosignatures.Count);
        return signed;
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Published the usage log's checkpoint at size {Size} with {Cosignatures} witness cosignature(s)")]
    private partial void LogPublished(long size, int cosignatures);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The witnesses' {Count} cosignature line(s) do not form a signed note with the checkpoint; it is published with the log's signature alone")]
    private partial void LogMalformedCosignatures(int count);
}
