namespace MeterAgent.Emulator;

/// <summary>
/// Counters of what the emulator saw and did, so tests and benchmarks can check the proxy in front of it
/// (e.g. that a refused request never reached upstream). Thread-safe; a singleton in DI.
/// </summary>
public sealed class EmulatorStats
{
    private long _requestsReceived;
    private long _requestsCompleted;
    private long _requestsRejected;
    private long _requestsUnauthorized;
    private long _faultsInjected;
    private long _requestsCancelled;
    private long _inFlight;
    private long _streamsStarted;
    private long _promptTokens;
    private long _completionTokens;

    /// <summary>Requests to a model route that got past authentication.</summary>
    public long RequestsReceived => Interlocked.Read(ref _requestsReceived);

    /// <summary>Requests answered in full with 200.</summary>
    public long RequestsCompleted => Interlocked.Read(ref _requestsCompleted);

    /// <summary>Requests answered 400 (bad JSON, missing fields, bad emulator headers).</summary>
    public long RequestsRejected => Interlocked.Read(ref _requestsRejected);

    /// <summary>Requests refused with 401 before they counted as received.</summary>
    public long RequestsUnauthorized => Interlocked.Read(ref _requestsUnauthorized);

    /// <summary>Requests whose answer was an injected fault: error status, disconnect, malformed body.</summary>
    public long FaultsInjected => Interlocked.Read(ref _faultsInjected);

    /// <summary>Requests the client abandoned before the answer was complete.</summary>
    public long RequestsCancelled => Interlocked.Read(ref _requestsCancelled);

    public long InFlight => Interlocked.Read(ref _inFlight);

    public long StreamsStarted => Interlocked.Read(ref _streamsStarted);

    /// <summary>Native prompt tokens of completed requests.</summary>
    public long PromptTokens => Interlocked.Read(ref _promptTokens);

    /// <summary>Native completion tokens (reasoning included) of completed requests.</summary>
    public long CompletionTokens => Interlocked.Read(ref _completionTokens);

    internal void OnReceived()
    {
        Interlocked.Increment(ref _requestsReceived);
        Interlocked.Increment(ref _inFlight);
    }

    internal void OnFinished() => Interlocked.Decrement(ref _inFlight);

    internal void OnCompleted(int promptTokens, int completionTokens)
    {
        Interlocked.Increment(ref _requestsCompleted);
        Interlocked.Add(ref _promptTokens, promptTokens);
        Interlocked.Add(ref _completionTokens, completionTokens);
    }

    internal void OnRejected() => Interlocked.Increment(ref _requestsRejected);

    internal void OnUnauthorized() => Interlocked.Increment(ref _requestsUnauthorized);

    internal void OnFaultInjected() => Interlocked.Increment(ref _faultsInjected);

    internal void OnCancelled() => Interlocked.Increment(ref _requestsCancelled);

    internal void OnStreamStarted() => Interlocked.Increment(ref _streamsStarted);
}
