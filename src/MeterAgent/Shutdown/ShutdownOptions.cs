using System.Globalization;

namespace MeterAgent.Shutdown;

/// <summary>
/// How a stop (SIGTERM) drains the proxy, bound from section "MeterAgent" beside <see cref="Common.MeterAgentOptions"/>:
/// <c>MeterAgent:DrainTimeout</c>, how long requests in flight (streams) may take to finish before the agent cuts them.
/// </summary>
public sealed class ShutdownOptions
{
    public const string Section = Common.MeterAgentOptions.Section;

    public const string DrainTimeoutKey = Section + ":" + nameof(DrainTimeout);

    /// <summary>The longest drain a setting may ask for; a deployment's grace period must cover it anyway.</summary>
    public static readonly TimeSpan MaxDrainTimeout = TimeSpan.FromHours(1);

    /// <summary>
    /// Time the host keeps after the drain for what follows it: closing the records of the requests it cut, the
    /// settlements still running, the usage log's queue and the live counters. The host's shutdown timeout is at
    /// least <see cref="DrainTimeout"/> plus this, and a deployment's grace period must cover both.
    /// </summary>
    public static readonly TimeSpan FlushMargin = TimeSpan.FromSeconds(30);

    /// <summary>Requests in flight at a stop may run this long (default one minute); the rest are cut and closed as interrupted.</summary>
    public TimeSpan DrainTimeout { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>The record's error for a request cut at the end of the drain.</summary>
    public string CutReason => string.Create(CultureInfo.InvariantCulture,
        $"agent stopped: the request was still running when {DrainTimeoutKey} ({DrainTimeout:c}) ran out");

    /// <summary>
    /// The drain time as configured, for the host's shutdown timeout, which is decided before the options are
    /// validated: a value that does not parse counts as the default here and stops start-up in validation.
    /// </summary>
    public static TimeSpan ReadDrainTimeout(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        return TimeSpan.TryParse(configuration[DrainTimeoutKey], CultureInfo.InvariantCulture, out var drain) && drain >= TimeSpan.Zero && drain <= MaxDrainTimeout
            ? drain
            : new ShutdownOptions().DrainTimeout;
    }
}
