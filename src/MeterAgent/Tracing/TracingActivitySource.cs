using System.Diagnostics;

namespace MeterAgent.Tracing;

/// <summary>
/// The agent's own spans: one per metered request. Nothing listens to it unless tracing is on, and an
/// <see cref="ActivitySource"/> nobody listens to creates nothing.
/// </summary>
public static class TracingActivitySource
{
    public const string Name = "MeterAgent";

    public static readonly ActivitySource Source = new(Name, typeof(TracingActivitySource).Assembly.GetName().Version?.ToString());
}
