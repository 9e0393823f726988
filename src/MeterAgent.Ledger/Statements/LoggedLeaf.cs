namespace MeterAgent.Ledger.Statements;

/// <summary>One leaf of the usage log: its index and its entry's bytes.</summary>
public readonly record struct LoggedLeaf(long Index, byte[] Entry);
