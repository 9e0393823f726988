namespace MeterAgent.Ledger.Redis;

/// <summary>
/// The bound on what one replica grants on credit while Redis is unreachable under <c>fail_open</c>: per account, the
/// estimates of the reservations it granted locally and that are not yet reconciled in Redis add up to at most
/// <see cref="LimitMicro"/>. A grant is taken in memory, under one lock, so concurrent requests cannot pass it together;
/// it is given back only when its settle has been applied in Redis (the replay of the outbox), so the lease refills only
/// once Redis is back. A process restarted with local grants still in its outbox counts them again from there before it
/// grants anything (<see cref="Restore"/>).
/// </summary>
public sealed class FailOpenLease
{
    private readonly Dictionary<string, long> _inUse = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();
    private long _total;

    /// <param name="limitMicro">the most micro-units one account may hold in unreconciled local grants (0 grants nothing)</param>
    public FailOpenLease(long limitMicro)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(limitMicro);
        LimitMicro = limitMicro;
    }

    public long LimitMicro { get; }

    /// <summary>Micro-units held now by unreconciled local grants, over every account (the gauge).</summary>
    public long InUseMicro => Volatile.Read(ref _total);

    /// <summary>Micro-units the account holds now in unreconciled local grants.</summary>
    public long InUseMicroOf(string accountId)
    {
        lock (_lock)
        {
            return _inUse.GetValueOrDefault(accountId);
        }
    }

    /// <summary>Takes <paramref name="amountMicro"/> for the account if its lease has room for all of it; false takes nothing.</summary>
    public bool TryTake(string accountId, long amountMicro)
    {
        ArgumentException.ThrowIfNullOrEmpty(accountId);
        ArgumentOutOfRangeException.ThrowIfNegative(amountMicro);
        lock (_lock)
        {
            var used = _inUse.GetValueOrDefault(accountId);
            if (LimitMicro == 0 || amountMicro > LimitMicro - used)
            {
                return false;
            }

            _inUse[accountId] = used + amountMicro;
            Volatile.Write(ref _total, _total + amountMicro);
            return true;
        }
    }

    /// <summary>Gives back a local grant once Redis has applied its settle.</summary>
    public void Release(string accountId, long amountMicro)
    {
        ArgumentException.ThrowIfNullOrEmpty(accountId);
        lock (_lock)
        {
            var used = _inUse.GetValueOrDefault(accountId);
            var amount = Math.Min(used, amountMicro);
            if (used - amount == 0)
            {
                _inUse.Remove(accountId);
            }
            else
            {
                _inUse[accountId] = used - amount;
            }

            Volatile.Write(ref _total, _total - amount);
        }
    }

    /// <summary>Counts a local grant found in the outbox at start (it holds its share even past the limit).</summary>
    internal void Restore(string accountId, long amountMicro)
    {
        lock (_lock)
        {
            _inUse[accountId] = _inUse.GetValueOrDefault(accountId) + amountMicro;
            Volatile.Write(ref _total, _total + amountMicro);
        }
    }
}
