using MeterAgent.Attestation.Checkpoints;
using MeterAgent.Attestation.Merkle;
using MeterAgent.Attestation.Notes;
using MeterAgent.Ledger.Usage;
using Microsoft.Extensions.Options;

namespace MeterAgent.Log;

/// <summary>
/// The Merkle tree over the usage log's entries, kept in memory and caught up from the store when its head is asked
/// for: the store is the truth (an entry is written with its record's close), the tree is derived from it in order.
/// </summary>
/// <remarks>Two hashes per entry in memory (about 64 MB for a million entries); tiles will move it to the store.</remarks>
internal sealed class UsageLogTree(IUsageLog entries, IOptions<LogOptions> options)
{
    private const int Batch = 10_000;

    private readonly MerkleLog _tree = new(new InMemoryHashStore());
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly NoteSigner? _signer = options.Value.SigningKeyPath is { Length: > 0 } path
        ? NoteSigner.Parse(File.ReadAllText(path).Trim())
        : null;

    /// <summary>The log's public key (C2SP vkey); null when no signing key is configured.</summary>
    public string? VerifierKey => _signer?.Verifier.VerifierKey;

    /// <summary>Appends every committed entry not in the tree yet, in index order; returns the size.</summary>
    public async Task<long> CatchUpAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            while (true)
            {
                var batch = await entries.ReadAsync(_tree.Size, Batch, cancellationToken);
                foreach (var entry in batch)
                {
                    _tree.Append(entry);
                }

                if (batch.Count < Batch)
                {
                    return _tree.Size;
                }
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>The log's signer; null when no signing key is configured.</summary>
    public NoteSigner? Signer => _signer;

    /// <summary>The tree caught up with the store: its size and root hash.</summary>
    public async Task<(long Size, byte[] Root)> HeadAsync(CancellationToken cancellationToken)
    {
        var size = await CatchUpAsync(cancellationToken);
        var root = new byte[32];
        await _gate.WaitAsync(cancellationToken);
        try
        {
            _tree.RootHash(size, root);
        }
        finally
        {
            _gate.Release();
        }

        return (size, root);
    }

    /// <summary>The log's current head as a C2SP checkpoint, signed as a C2SP signed note with the log's key.</summary>
    public async Task<string> SignedCheckpointAsync(CancellationToken cancellationToken)
    {
        var signer = _signer ?? throw new InvalidOperationException("The usage log has no signing key (Attestation:SigningKeyPath).");
        var size = await CatchUpAsync(cancellationToken);
        var root = new byte[32];
        await _gate.WaitAsync(cancellationToken);
        try
        {
            _tree.RootHash(size, root);
        }
        finally
        {
            _gate.Release();
        }

        return SignedNote.Sign(new Checkpoint(signer.Name, size, root).Format(), signer).ToString();
    }
}
