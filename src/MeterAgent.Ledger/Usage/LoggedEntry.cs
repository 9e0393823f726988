namespace MeterAgent.Ledger.Usage;

/// <summary>
/// One entry of the usage log, found by its record's id: where it sits in the tree, its bytes (what the leaf hashes),
/// and the account the entry names, so an account's proof API can refuse another account's record without a second
/// read.
/// </summary>
public sealed record LoggedEntry(long LeafIndex, byte[] Entry, string AccountId);
