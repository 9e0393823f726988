namespace MeterAgent.Ledger.Hosting;

/// <summary>
/// What every store shares, bound from the configuration section <c>Store</c> (a backend binds its own settings from
/// the same section, so the keys an operator sets do not depend on which class reads them):
/// <list type="bullet">
/// <item><c>Store:Kind</c> — which backend holds accounts, usage and credits (default <c>sqlite</c>).</item>
/// <item><c>Store:ReservationSweepInterval</c> — how often reservations past their deadline are released (default
/// <c>00:00:05</c>, from 00:00:00.100 to 01:00:00).</item>
/// </list>
/// </summary>
public sealed class StoreOptions
{
    public const string SectionName = "Store";

    /// <summary>The embedded default: nothing to install.</summary>
    public const string DefaultKind = "sqlite";

    public string Kind { get; set; } = DefaultKind;

    public TimeSpan ReservationSweepInterval { get; set; } = TimeSpan.FromSeconds(5);
}
