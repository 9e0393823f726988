namespace MeterAgent.Emulator.Pipeline;

/// <summary>The effective timing of one request: options, overridden by the x-emulator-* headers.</summary>
internal readonly record struct StreamTiming(TimeSpan Latency, TimeSpan TimeToFirstToken, double TokensPerSecond, int TokensPerEvent);
