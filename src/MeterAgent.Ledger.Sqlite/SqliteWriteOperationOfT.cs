using System.Threading.Tasks.Sources;
namespace MeterAgent.Ledger.Sqlite;

/// <inheritdoc cref="SqliteWriteOperation"/>
internal abstract class SqliteWriteOperation<T> : SqliteWriteOperation, IValueTaskSource<T>, IValueTaskSource
{
    // The operation is its caller's awaitable, with no Task of its own unless a caller asks for one (AsTask). Asynchronous
    // continuations: callers must never run on, and stall, the single writer. One resumed with its batch is completed
    // off the writer, on the batch's work item, and runs its caller's continuation there.
    private ManualResetValueTaskSourceCore<T> _core;
    private T? _result;
    private int _completed;

    /// <param name="resumesWithBatch">see <see cref="SqliteWriteOperation.ResumesWithBatch"/></param>
    protected SqliteWriteOperation(bool resumesWithBatch = false)
        : base(resumesWithBatch)
    {
        _core = new() { RunContinuationsAsynchronously = !resumesWithBatch };
    }

    /// <summary>Its outcome, awaited once (the operation runs once and is not reused).</summary>
    public ValueTask<T> AsValueTask() => new(this, _core.Version);

    /// <summary>Its end without its result, awaited once.</summary>
    public ValueTask AsValueTaskWithoutResult() => new(this, _core.Version);

    /// <summary>Its outcome as a task, for callers that keep it or wait with a cancellation token.</summary>
    public Task<T> AsTask() => AsValueTask().AsTask();

    public sealed override void Execute(SqliteWriteContext context) => _result = Run(context);

    public sealed override void Complete()
    {
        if (Interlocked.Exchange(ref _completed, 1) != 0)
        {
            return;
        }

        if (Error is { } error)
        {
            OnFailed();
            _core.SetException(error);
        }
        else
        {
            _core.SetResult(_result!);
        }
    }

    public sealed override void Fail(Exception exception)
    {
        if (Interlocked.Exchange(ref _completed, 1) != 0)
        {
            return;
        }

        OnFailed();
        _core.SetException(exception);
    }

    T IValueTaskSource<T>.GetResult(short token) => _core.GetResult(token);

    void IValueTaskSource.GetResult(short token) => _core.GetResult(token);

    public ValueTaskSourceStatus GetStatus(short token) => _core.GetStatus(token);

    public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _core.OnCompleted(continuation, state, token, flags);

    /// <summary>Its write will not be committed: its own error, or its transaction's. Runs once, before its caller learns it.</summary>
    protected virtual void OnFailed()
    {
    }

    protected abstract T Run(SqliteWriteContext context);
}
