using System.Collections.Concurrent;
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
    private readonly ConcurrentDictionary<DrainTicket, byte> _inFlight = new();
    private CancellationTokenRegistration _stopping;
    private ITimer? _deadline;
    private volatile bool _draining;

    /// <summary>The host is stopping: no new proxied request is admitted.</summary>
    public bool Draining => _draining;

    /// <summary>Proxied requests admitted and not yet finished.</summary>
    public int InFlight => _inFlight.Count;

    /// <summary>Admits a request; null once the stop has begun (the caller answers 503).</summary>
    public DrainTicket? Enter(HttpContext context)
    {
        var ticket = new DrainTicket(context);
        _inFlight.TryAdd(ticket, 0);

        // Checked after the add: a request admitted here is either seen by the cut-off or refused, never neither.
        if (_draining)
        {
            _inFlight.TryRemove(ticket, out _);
            return null;
        }

        return ticket;
    }

    public void Leave(DrainTicket ticket) => _inFlight.TryRemove(ticket, out _);

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
        _draining = true;
        var drain = options.Value.DrainTimeout;
        LogDraining(InFlight, drain);
        _deadline = clock.CreateTimer(static state => ((ProxyDrain)state!).CutOff(), this, drain, Timeout.InfiniteTimeSpan);
    }

    private void CutOff()
    {
        var cut = 0;
        var reason = options.Value.CutReason;
        foreach (var ticket in _inFlight.Keys)
        {
            ticket.CutOff(reason);
            cut++;
        }

        if (cut > 0)
        {
            LogCut(cut, options.Value.DrainTimeout);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Stopping: {Count} proxied requests in flight may run for up to {DrainTimeout} (MeterAgent:DrainTimeout); new ones are refused")]
    private partial void LogDraining(int count, TimeSpan drainTimeout);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Stopping: cut {Count} proxied requests still running after {DrainTimeout} (MeterAgent:DrainTimeout); their records close as interrupted")]
    private partial void LogCut(int count, TimeSpan drainTimeout);
}
