namespace MeterAgent.Ledger.Sqlite;

/// <summary>
/// One unit of work for <see cref="SqliteWriter"/>. It runs serialised with every other write inside the batch
/// transaction, under its own savepoint, so it may read, decide and write atomically; its caller learns the outcome
/// once the transaction has committed. A batch whose
/// commit fails is retried one operation per transaction, so <see cref="Execute"/> may run more than once: it must
/// keep no state outside the database between runs, but for what the writer undoes itself when a run does not commit
/// (the <see cref="ReservationBook"/>'s view, through <see cref="SqliteWriteContext.ResolvedEntries"/>).
/// </summary>
internal abstract class SqliteWriteOperation
{
    protected SqliteWriteOperation(bool resumesWithBatch) => ResumesWithBatch = resumesWithBatch;

    /// <summary>For logs: what this is and on what (no secrets, no content).</summary>
    public abstract string Description { get; }

    /// <summary>The operation's own failure (its savepoint was rolled back); the batch commits without it.</summary>
    public Exception? Error { get; set; }

    /// <summary>
    /// The operation is one SQL statement. SQLite undoes a failed statement by itself and the transaction goes on, so such
    /// an operation needs no savepoint of its own: two statements fewer for every usage write.
    /// </summary>
    public virtual bool IsSingleStatement => false;

    /// <summary>
    /// Nobody on a request's path waits for it (a close after its response, a fold, a log append): the writer may hold
    /// it for a moment so that the closes right behind it share its commit (<see cref="SqliteWriter"/>).
    /// </summary>
    public virtual bool CanWait => false;

    /// <summary>
    /// Its caller is resumed together with the others of its batch that are, by one thread-pool work item after the
    /// commit, its continuation run inline there: a settlement's close, whose caller only hands the outcome to its
    /// observers. Each caller resumed on its own work item cost a hand-off per request. Only for a caller that does
    /// little and never blocks: the callers of a batch run one after another. Never on the writer's own thread.
    /// </summary>
    public bool ResumesWithBatch { get; }

    public abstract void Execute(SqliteWriteContext context);

    /// <summary>After the commit: hands the caller its result, or its own <see cref="Error"/>.</summary>
    public abstract void Complete();

    /// <summary>The transaction holding it did not commit.</summary>
    public abstract void Fail(Exception exception);
}
