using Microsoft.Extensions.Options;

namespace MeterAgent.Shutdown;

/// <summary>
/// The proxy's side of a stop (README, "Stopping"). When the host begins to stop, new proxied requests are refused (the
/// listeners close too; a request already on an open connection gets 503) and those in flight keep running for
/// <see cref="ShutdownOptions.DrainTimeout"/>. Whatever still runs then is cut: its connection aborted, its upstream
/// call cancelled, its record closed as interrupted. The host's shutdown timeout leaves
/// <see cref="ShutdownOptions.FlushMargin"/> after that for the records to close and the queues behind them to empty.
/// </summary>
internal sealed partial class ProxyDrain(
    IHostApplicationLifetime lifetime, IOptions<ShutdownOptions> options, TimeProvider clock, ILogger<ProxyDrain> logger) : IHostedService, IDisposable
{
    // Under its own lock: a set keeps its entries in arrays, so admitting a request allocates nothing (a concurrent
    // dictionary allocates a node per entry), and the lock is held for a hash insert or removal.
    private readonly HashSet<DrainTicket> _inFlight = new(ReferenceEqualityComparer.Instance);
    private CancellationTokenRegistration _stopping;
    private ITimer? _deadline;
    private volatile bool _draining;

    /// <summary>The host is stopping: no new proxied request is admitted.</summary>
    public bool Draining => _draining;

    /// <summary>Proxied requests admitted and not yet finished.</summary>
    public int InFlight
    {
        get
        {
            lock (_inFlight)
            {
                return _inFlight.Count;
            }
        }
    }

    /// <summary>Admits a request; null once the stop has begun (the caller answers 503).</summary>
    public DrainTicket? Enter(HttpContext context)
    {
        var ticket = new DrainTicket(context);
        lock (_inFlight)
        {
            // Checked under the lock the cut-off takes: a request admitted here is either seen by it or refused, never neither.
            if (_draining)
            {
                return null;
            }

            _inFlight.Add(ticket);
        }

        return ticket;
    }

    public void Leave(DrainTicket ticket)
    {
        lock (_inFlight)
        {
            _inFlight.Remove(ticket);
        }
    }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _stopping = lifetime.ApplicationStopping.Register(static state => ((ProxyDrain)state!).BeginDrain(), this);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public void Dispose()
    {
        _stopping.Dispose();
        _deadline?.Dispose();
    }

    private void BeginDrain()
    {
        lock (_inFlight)
        {
            _draining = true;
        }

        var drain = options.Value.DrainTimeout;
        LogDraining(InFlight, drain);
        _deadline = clock.CreateTimer(static state => ((ProxyDrain)state!).CutOff(), this, drain, Timeout.InfiniteTimeSpan);
    }

    private void CutOff()
    {
        DrainTicket[] running;
        lock (_inFlight)
        {
            running = [.. _inFlight];
        }

        // Outside the lock: an abort may end a request, which leaves the set.
        var reason = options.Value.CutReason;
        foreach (var ticket in running)
        {
            ticket.CutOff(reason);
        }

        if (running.Length > 0)
        {
            LogCut(running.Length, options.Value.DrainTimeout);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Stopping: {Count} proxied requests in flight may run for up to {DrainTimeout} (MeterAgent:DrainTimeout); new ones are refused")]
    private partial void LogDraining(int count, TimeSpan drainTimeout);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Stopping: cut {Count} proxied requests still running after {DrainTimeout} (MeterAgent:DrainTimeout); their records close as interrupted")]
    private partial void LogCut(int count, TimeSpan drainTimeout);
}
