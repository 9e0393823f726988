namespace MeterAgent.Ledger.Availability;

/// <summary>A store with nothing shared to lose: the embedded one.</summary>
public sealed class AlwaysAvailable : IStoreAvailability
{
    public static readonly AlwaysAvailable Instance = new();

    private AlwaysAvailable()
    {
    }

    public bool IsAvailable => true;

    public OutagePolicy Policy => OutagePolicy.FailClosed;

    public TimeSpan RetryAfter => TimeSpan.FromSeconds(1);

    public bool IsOutage(Exception exception) => false;

    public void Report(Exception exception)
    {
    }
}
