using MeterAgent.Attestation.Notes;

namespace MeterAgent.Attestation.Witnesses;

/// <summary>
/// A log a witness serves: its origin (the checkpoint's first line) and the key(s) that sign its checkpoints. Several
/// keys let a log rotate its key without the witness losing its state.
/// </summary>
public sealed record WitnessedLog
{
    public WitnessedLog(string origin, IReadOnlyList<NoteVerifier> keys)
    {
        ArgumentException.ThrowIfNullOrEmpty(origin);
        ArgumentNullException.ThrowIfNull(keys);
        if (keys.Count == 0 || keys.Any(k => k.SignatureType != NoteKeyId.Ed25519SignatureType))
        {
            throw new ArgumentException("A log is trusted by one or more note keys (signature type 0x01).", nameof(keys));
        }

        Origin = origin;
        Keys = new NoteVerifiers(keys);
    }

    public string Origin { get; }

    public NoteVerifiers Keys { get; }

    /// <summary>
    /// One log per key name, as MeterAgent names its log key after its origin (and as most tlog tools do): the keys
    /// sharing a name are one log's current and past keys.
    /// </summary>
    public static IReadOnlyList<WitnessedLog> FromKeys(IEnumerable<NoteVerifier> keys)
    {
        ArgumentNullException.ThrowIfNull(keys);
        return [.. keys.GroupBy(k => k.Name, StringComparer.Ordinal).Select(g => new WitnessedLog(g.Key, [.. g]))];
    }
}
