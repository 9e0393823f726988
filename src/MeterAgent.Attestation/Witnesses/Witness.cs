using System.Text;
using MeterAgent.Attestation.Checkpoints;
using MeterAgent.Attestation.Merkle;
using MeterAgent.Attestation.Notes;

namespace MeterAgent.Attestation.Witnesses;

/// <summary>
/// A c2sp.org/tlog-witness witness, without HTTP: it cosigns a log's checkpoint only if the checkpoint is signed by the
/// log's key and is consistent with the latest one it cosigned for that log (by the request's consistency proof), and
/// then remembers it. So every checkpoint it ever cosigned for a log lies on one append-only history: a log that
/// shows a forked or rolled-back tree to anyone cannot get it cosigned by this witness.
/// </summary>
public sealed class Witness
{
    private readonly NoteSigner _key;
    private readonly Dictionary<string, WitnessedLog> _logs;
    private readonly Dictionary<string, SemaphoreSlim> _gates;
    private readonly IWitnessState _state;
    private readonly TimeProvider _time;

    public Witness(NoteSigner key, IEnumerable<WitnessedLog> logs, IWitnessState state, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(logs);
        if (key.SignatureType != NoteKeyId.CosignatureV1SignatureType)
        {
            throw new ArgumentException($"{key} is not a cosigner key (signature type 0x04).", nameof(key));
        }

        _key = key;
        _logs = logs.ToDictionary(l => l.Origin, StringComparer.Ordinal);
        _gates = _logs.Keys.ToDictionary(o => o, _ => new SemaphoreSlim(1, 1), StringComparer.Ordinal);
        _state = state ?? throw new ArgumentNullException(nameof(state));
        _time = time ?? throw new ArgumentNullException(nameof(time));
    }

    /// <summary>The witness's public key, for logs and verifiers to trust.</summary>
    public NoteVerifier Verifier => _key.Verifier;

    public IReadOnlyCollection<string> Origins => _logs.Keys;

    /// <summary>Handles one add-checkpoint body; never throws on what the client sent.</summary>
    public async Task<AddCheckpointResult> AddCheckpointAsync(ReadOnlyMemory<byte> body, CancellationToken cancellationToken)
    {
        AddCheckpointRequest request;
        SignedNote note;
        Checkpoint checkpoint;
        try
        {
            request = AddCheckpointRequest.Parse(body.Span);
            note = SignedNote.Parse(request.Checkpoint.Span);
            checkpoint = Checkpoint.Parse(note.Text);
        }
        catch (Exception ex) when (ex is FormatException or NoteRejectedException)
        {
            return AddCheckpointResult.Refused(WitnessStatus.BadRequest, ex.Message);
        }

        var (origin, size) = (checkpoint.Origin, checkpoint.TreeSize);
        if (!_logs.TryGetValue(origin, out var log))
        {
            return AddCheckpointResult.Refused(WitnessStatus.UnknownLog, $"unknown log origin \"{origin}\"", origin, size);
        }

        VerifiedNote verified;
        try
        {
            verified = note.Verify(log.Keys);
        }
        catch (NoteRejectedException ex)
        {
            return AddCheckpointResult.Refused(WitnessStatus.Forbidden, ex.Message, origin, size);
        }

        if (request.OldSize > size)
        {
            return AddCheckpointResult.Refused(WitnessStatus.BadRequest, $"old size {request.OldSize} is above the checkpoint's size {size}", origin, size);
        }

        // Checking the old size against the latest and recording the new one are one step, or two requests could
        // interleave and roll the recorded size back (the spec's race).
        var gate = _gates[origin];
        await gate.WaitAsync(cancellationToken);
        try
        {
            var latest = await _state.ReadAsync(origin, cancellationToken);
            var latestSize = latest?.Checkpoint.TreeSize ?? 0;
            if (request.OldSize != latestSize)
            {
                return AddCheckpointResult.Conflict(latestSize, origin, size);
            }

            if (Inconsistency(request, checkpoint, latest?.Checkpoint) is { } problem)
            {
                return AddCheckpointResult.Refused(WitnessStatus.Unprocessable, problem, origin, size);
            }

            var cosignature = CosignatureV1.Sign(_key, note.Text, Math.Max(1, _time.GetUtcNow().ToUnixTimeSeconds()));
            var served = SignedNote.Parse(Encoding.UTF8.GetBytes(
                note.Text + "\n" + CosignatureV1.FormatLines([.. verified.VerifiedSignatures, cosignature])));
            await _state.WriteAsync(new WitnessedCheckpoint(checkpoint, served.ToString()), cancellationToken);
            return AddCheckpointResult.Cosigned(cosignature, origin, size);
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>The latest checkpoint cosigned for <paramref name="origin"/>, as served to monitors.</summary>
    public Task<WitnessedCheckpoint?> LatestAsync(string origin, CancellationToken cancellationToken) =>
        _logs.ContainsKey(origin) ? _state.ReadAsync(origin, cancellationToken) : Task.FromResult<WitnessedCheckpoint?>(null);

    /// <summary>Null when the checkpoint extends the latest one (whose size the request's old size already matched).</summary>
    private static string? Inconsistency(AddCheckpointRequest request, Checkpoint checkpoint, Checkpoint? latest)
    {
        if (checkpoint.TreeSize == 0 && !checkpoint.RootHash.SequenceEqual(MerkleHashing.EmptyRoot))
        {
            return "a checkpoint of size 0 must have the empty tree's root";
        }

        if (request.OldSize == 0 || latest is null)
        {
            return request.Proof.Count == 0 ? null : "the consistency proof from size 0 must be empty";
        }

        if (checkpoint.TreeSize == latest.TreeSize && !checkpoint.RootHash.SequenceEqual(latest.RootHash))
        {
            return $"forked: size {checkpoint.TreeSize} was cosigned with another root ({Convert.ToBase64String(latest.RootHash)})";
        }

        var result = ConsistencyProof.Verify(latest.TreeSize, checkpoint.TreeSize, latest.RootHash, checkpoint.RootHash, request.ConcatenatedProof());
        return result == ProofResult.Valid
            ? null
            : $"the consistency proof from size {latest.TreeSize} to {checkpoint.TreeSize} does not verify ({result})";
    }
}
