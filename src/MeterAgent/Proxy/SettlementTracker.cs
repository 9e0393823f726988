using System.Collections.Concurrent;

namespace MeterAgent.Proxy;

/// <summary>
/// Settlements that run after the client has its whole response (count output, post credits, close the record).
/// Awaiting them in the request would only hold the keep-alive connection; it would make nothing more durable, since
/// a crash mid-settlement leaves the record open either way and recovery closes it as interrupted. On shutdown the
/// host waits for every settlement in flight before the store closes. It also counts them per account, so a reserve
/// refused while the account's last requests were settling can wait for their posts (<see cref="SettlingFor"/>).
/// </summary>
internal sealed partial class SettlementTracker(ILogger<SettlementTracker> logger) : IHostedService
{
    private readonly Lock _gate = new();
    private int _inFlight;
    private TaskCompletionSource? _drained;

    /// <summary>
    /// How long a refusal (credits, a token limit) waits for the account's requests that were settling here when it was
    /// decided, before it is asked again. Their settlements take milliseconds; this bounds a store slow to commit.
    /// </summary>
    public static readonly TimeSpan RefusalWait = TimeSpan.FromSeconds(1);

    public int InFlight => Volatile.Read(ref _inFlight);

    /// <summary>
    /// Each account's requests still settling, counted from the response's end to the post. Entries stay (one small
    /// object per account this process has served), so a settlement adds a look-up, not an allocation.
    /// </summary>
    private readonly ConcurrentDictionary<string, AccountSettlements> _accounts = new(StringComparer.Ordinal);

    /// <summary>
    /// A settlement of the account's request has started. It reports its own end (<see cref="End"/>) with what this
    /// returns, so nothing waits on its task.
    /// </summary>
    public Settling Begin(string accountId)
    {
        Interlocked.Increment(ref _inFlight);
        var account = _accounts.GetOrAdd(accountId, static _ => new AccountSettlements());
        lock (account)
        {
            var settling = account.Current;
            Interlocked.Increment(ref settling.Count);
            return settling;
        }
    }

    /// <summary>A settlement begun with <see cref="Begin"/> has ended, failed when <paramref name="failure"/> is set.</summary>
    public void End(string usageId, Settling settling, Exception? failure)
    {
        ArgumentNullException.ThrowIfNull(settling);
        if (failure is not null)
        {
            LogFailed(usageId, failure);
        }

        if (Interlocked.Decrement(ref settling.Count) == 0)
        {
            TaskCompletionSource? settled;
            lock (settling)
            {
                (settled, settling.Settled) = (settling.Settled, null);
            }

            settled?.TrySetResult();
        }

        if (Interlocked.Decrement(ref _inFlight) == 0)
        {
            lock (_gate)
            {
                _drained?.TrySetResult();
            }
        }
    }

    /// <summary>
    /// The account's settlements in flight here now, or null when there are none: a reserve refused after this may have
    /// been refused for their holds (<see cref="SettledAsync"/>). Read before the reserve, since one may end meanwhile.
    /// </summary>
    public Settling? SettlingFor(string accountId) =>
        _accounts.TryGetValue(accountId, out var account) && Volatile.Read(ref account.Current) is var current
            && Volatile.Read(ref current.Count) > 0
            ? current
            : null;

    /// <summary>
    /// Waits, at most <paramref name="bound"/>, for the settlements <see cref="SettlingFor"/> returned to end. Settlements
    /// that begin from now on count apart, so a steady stream of them cannot keep this waiting.
    /// </summary>
    public async Task SettledAsync(string accountId, Settling settling, TimeSpan bound)
    {
        ArgumentNullException.ThrowIfNull(settling);
        if (_accounts.TryGetValue(accountId, out var account))
        {
            lock (account)
            {
                if (ReferenceEquals(account.Current, settling))
                {
                    Volatile.Write(ref account.Current, new Settling());
                }
            }
        }

        Task settled;
        lock (settling)
        {
            if (Volatile.Read(ref settling.Count) == 0)
            {
                return;
            }

            settled = (settling.Settled ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task;
        }

        try
        {
            await settled.WaitAsync(bound);
        }
        catch (TimeoutException)
        {
            // Still settling after the bound (a store slow to commit): the caller asks again with what has posted.
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

    /// <summary>An account's settlements in flight that began together: those a waiter waits for are set apart.</summary>
    public sealed class Settling
    {
        internal int Count;

        internal TaskCompletionSource? Settled;
    }

    private sealed class AccountSettlements
    {
        public Settling Current = new();
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Usage {UsageId}: settling failed; the record stays open until recovery closes it as interrupted")]
    private partial void LogFailed(string usageId, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Shutdown did not wait for {Count} settlements; recovery closes their records at the next start")]
    private partial void LogAbandoned(int count);
}
