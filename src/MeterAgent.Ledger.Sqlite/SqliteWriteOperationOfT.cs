namespace MeterAgent.Ledger.Sqlite;

/// <inheritdoc cref="SqliteWriteOperation"/>
internal abstract class SqliteWriteOperation<T> : SqliteWriteOperation
{
    // Asynchronous continuations: callers must never run on, and stall, the single writer. One resumed with its batch
    // is completed off the writer, on the batch's work item, and runs its caller's continuation there.
    private readonly TaskCompletionSource<T> _completion;
    private T? _result;

    /// <param name="resumesWithBatch">see <see cref="SqliteWriteOperation.ResumesWithBatch"/></param>
    protected SqliteWriteOperation(bool resumesWithBatch = false)
        : base(resumesWithBatch)
    {
        _completion = new(resumesWithBatch ? TaskCreationOptions.None : TaskCreationOptions.RunContinuationsAsynchronously);
    }

    public Task<T> Task => _completion.Task;

    public sealed override void Execute(SqliteWriteContext context) => _result = Run(context);

    public sealed override void Complete()
    {
        if (Error is { } error)
        {
            OnFailed();
            _completion.TrySetException(error);
        }
        else
        {
            _completion.TrySetResult(_result!);
        }
    }

    public sealed override void Fail(Exception exception)
    {
        OnFailed();
        _completion.TrySetException(exception);
    }

    /// <summary>Its write will not be committed: its own error, or its transaction's. Runs once, before its caller learns it.</summary>
    protected virtual void OnFailed()
    {
    }

    protected abstract T Run(SqliteWriteContext context);
}
