using MeterAgent.Ledger.Hosting;

namespace MeterAgent.Ledger.Sqlite;

/// <summary>
/// The embedded store's write probe: an empty operation queued to the one writer. It returns only once a batch holding
/// it has committed, and every batch begins with <c>BEGIN IMMEDIATE</c> (the database's write lock), so it proves the
/// writer is running and can take the lock and commit, as the next usage record will need to.
/// </summary>
internal sealed class SqliteWriteProbe(SqliteWriter writer) : IStoreWriteProbe
{
    public Task ProbeWriteAsync(CancellationToken cancellationToken) => writer.SubmitAsync(new ProbeWrite(), cancellationToken);

    private sealed class ProbeWrite : SqliteWriteOperation<bool>
    {
        public override string Description => "readiness write probe";

        // Nothing to undo: no savepoint needed.
        public override bool IsSingleStatement => true;

        protected override bool Run(SqliteWriteContext context) => true;
    }
}
