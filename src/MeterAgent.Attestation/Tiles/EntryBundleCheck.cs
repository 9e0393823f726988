namespace MeterAgent.Attestation.Tiles;

/// <summary>The outcome of checking an entry bundle against its level-0 tile.</summary>
public enum EntryBundleCheck
{
    /// <summary>Every entry hashes to the tile's hash at its position, and the counts agree.</summary>
    Matches,

    /// <summary>The bundle ends inside a length prefix or an entry.</summary>
    Malformed,

    /// <summary>The bundle and the tile hold different numbers of entries.</summary>
    CountMismatch,

    /// <summary>An entry does not hash to the tile's leaf hash at its position.</summary>
    HashMismatch,
}
