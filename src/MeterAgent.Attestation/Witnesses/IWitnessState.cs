using System.Collections.Concurrent;
using MeterAgent.Attestation.Checkpoints;

namespace MeterAgent.Attestation.Witnesses;

/// <summary>
/// What a witness must remember per log: the latest checkpoint it cosigned. Losing it would let the log roll back or
/// fork past the witness, so <see cref="WriteAsync"/> must be durable before it returns (the witness answers only
/// after). The <see cref="Witness"/> serialises calls per origin; a store need not.
/// </summary>
public interface IWitnessState
{
    /// <summary>The latest checkpoint cosigned for <paramref name="origin"/>, or null if none ever was.</summary>
    Task<WitnessedCheckpoint?> ReadAsync(string origin, CancellationToken cancellationToken);

    /// <summary>Replaces the origin's latest checkpoint, durably.</summary>
    Task WriteAsync(WitnessedCheckpoint checkpoint, CancellationToken cancellationToken);
}

/// <summary>
/// A checkpoint a witness cosigned: parsed, and as the note it serves to monitors (the log's verified signatures and
/// the witness's cosignature).
/// </summary>
public sealed record WitnessedCheckpoint(Checkpoint Checkpoint, string Note);

/// <summary>The state in memory, for tests: forgotten at exit, which a real witness must never do.</summary>
public sealed class InMemoryWitnessState : IWitnessState
{
    private readonly ConcurrentDictionary<string, WitnessedCheckpoint> _latest = new(StringComparer.Ordinal);

    public Task<WitnessedCheckpoint?> ReadAsync(string origin, CancellationToken cancellationToken) =>
        Task.FromResult(_latest.GetValueOrDefault(origin));

    public Task WriteAsync(WitnessedCheckpoint checkpoint, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(checkpoint);
        _latest[checkpoint.Checkpoint.Origin] = checkpoint;
        return Task.CompletedTask;
    }
}
