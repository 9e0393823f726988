namespace MeterAgent.Ledger.Sqlite;

/// <summary>The <c>PRAGMA synchronous</c> level for the store's connections.</summary>
public enum SqliteSynchronousMode
{
    /// <summary>
    /// In WAL mode a commit survives a process crash (even <c>kill -9</c>): it is in the WAL file once the commit
    /// returns. Only a power loss or OS crash can drop the last commits, because the WAL is fsynced at checkpoints.
    /// </summary>
    Normal,

    /// <summary>Every commit is fsynced: survives power loss, at the price of one fsync per group commit.</summary>
    Full,
}
