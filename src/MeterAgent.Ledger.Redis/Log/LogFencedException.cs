namespace MeterAgent.Ledger.Redis.Log;

/// <summary>A write to the shared log refused because this replica does not hold the lease's current fencing token.</summary>
public sealed class LogFencedException : InvalidOperationException
{
    public LogFencedException()
        : base("This replica does not hold the log lease's current fencing token: another replica writes the log.")
    {
    }

    public LogFencedException(string message)
        : base(message)
    {
    }

    public LogFencedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
