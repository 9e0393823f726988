namespace MeterAgent.Log;

/// <summary>
/// The witnesses the log's checkpoints are sent to (C2SP tlog-witness) before they are published, so the log cannot
/// show one history to the clearing house and another to an enterprise.
/// </summary>
internal interface ICheckpointWitnesses
{
    /// <summary>
    /// Asks each configured witness to cosign <paramref name="signedNote"/> (the checkpoint of size
    /// <paramref name="treeSize"/>, signed by the log key, without cosignatures). Returns the cosignature lines to append
    /// to the note (each a whole signature line, <c>— name base64\n</c>); empty when no witness is configured or none
    /// answered. A witness that is down or refuses is logged and skipped, never thrown.
    /// </summary>
    Task<IReadOnlyList<string>> CosignAsync(string signedNote, long treeSize, IConsistencyProver prover, CancellationToken cancellationToken);
}

/// <summary>Consistency proofs between two sizes of the log (RFC 6962), for a witness that last saw a smaller tree.</summary>
internal interface IConsistencyProver
{
    Task<IReadOnlyList<byte[]>> ProveAsync(long fromSize, long toSize, CancellationToken cancellationToken);
}

/// <summary>No witness configured: checkpoints are published with the log's signature alone.</summary>
internal sealed class NoCheckpointWitnesses : ICheckpointWitnesses
{
    public Task<IReadOnlyList<string>> CosignAsync(string signedNote, long treeSize, IConsistencyProver prover, CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<string>>([]);
}
