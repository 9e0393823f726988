namespace MeterAgent.Proxy;

/// <summary>
/// Settlements that run after the client has its whole response (count output, post credits, close the record).
/// Awaiting them in the request would only hold the keep-alive connection; it would make nothing more durable, since
/// a crash mid-settlement leaves the record open either way and recovery closes it as interrupted. On shutdown the
/// host waits for every settlement in flight before the store closes.
/// </summary>
internal sealed partial class SettlementTracker(ILogger<SettlementTracker> logger) : IHostedService
{
    private readonly Lock _gate = new();
    private int _inFlight;
    private TaskCompletionSource? _drained;

    public int InFlight => Volatile.Read(ref _inFlight);

    /// <summary>A settlement has started; it reports its own end (<see cref="End"/>), so nothing waits on its task.</summary>
    public void Begin() => Interlocked.Increment(ref _inFlight);

    /// <summary>A settlement begun with <see cref="Begin"/> has ended, failed when <paramref name="failure"/> is set.</summary>
    public void End(string usageId, Exception? failure)
    {
        if (failure is not null)
        {
            LogFailed(usageId, failure);
        }

        if (Interlocked.Decrement(ref _inFlight) == 0)
        {
            lock (_gate)
            {
                _drained?.TrySetResult();
            }
        }
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Waits for the settlements in flight (the server has stopped taking requests by now).</summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        Task drained;
        lock (_gate)
        {
            if (_inFlight == 0)
            {
                return;
            }

            _drained ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            drained = _drained.Task;
        }

        try
        {
            await drained.WaitAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            LogAbandoned(InFlight);
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Usage {UsageId}: settling failed; the record stays open until recovery closes it as interrupted")]
    private partial void LogFailed(string usageId, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Shutdown did not wait for {Count} settlements; recovery closes their records at the next start")]
    private partial void LogAbandoned(int count);
}
