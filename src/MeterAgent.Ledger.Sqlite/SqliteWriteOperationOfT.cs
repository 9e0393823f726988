namespace MeterAgent.Ledger.Sqlite;

/// <inheritdoc cref="SqliteWriteOperation"/>
internal abstract class SqliteWriteOperation<T> : SqliteWriteOperation
{
    // Asynchronous continuations: callers must never run on, and stall, the single writer.
    private readonly TaskCompletionSource<T> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private T? _result;

    public Task<T> Task => _completion.Task;

    public sealed override void Execute(SqliteWriteContext context) => _result = Run(context);

    public sealed override void Complete()
    {
        if (Error is { } error)
        {
            _completion.TrySetException(error);
        }
        else
        {
            _completion.TrySetResult(_result!);
        }
    }

    public sealed override void Fail(Exception exception) => _completion.TrySetException(exception);

    protected abstract T Run(SqliteWriteContext context);
}
