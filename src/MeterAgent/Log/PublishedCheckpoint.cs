namespace MeterAgent.Log;

/// <summary>
/// A checkpoint the log has published: its tree size and root, and the note served at <c>/log/checkpoint</c> (the
/// checkpoint signed by the log key, then any witness cosignature lines). Statements name a published size, so that
/// their tree is one a clearing house or a witness can also have seen.
/// </summary>
internal sealed record PublishedCheckpoint(long Size, byte[] RootHash, string Note);
