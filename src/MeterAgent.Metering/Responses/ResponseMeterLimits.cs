namespace MeterAgent.Metering.Responses;

/// <summary>
/// How much of one response the tap may hold. Metering needs the usage and the output text, not the body: past a bound
/// the tap stops buffering, keeps forwarding every byte unchanged, and reports <see cref="MeteredResponse.Truncated"/>.
/// </summary>
public sealed class ResponseMeterLimits
{
    public static ResponseMeterLimits Default { get; } = new();

    /// <summary>
    /// A non-streaming JSON body is kept whole up to this many bytes (16 MiB). Past it the body is scanned as it passes
    /// for its root "usage" and "model" members only, so the native usage is still read; the output text is not.
    /// </summary>
    public int MaxBodyBytes { get; init; } = 16 * 1024 * 1024;

    /// <summary>One SSE line, one event's data, and (when hiding the usage chunk) one held-back event: 4 MiB each.</summary>
    public int MaxEventBytes { get; init; } = 4 * 1024 * 1024;

    /// <summary>
    /// Output text kept across all parts of one response, in UTF-16 chars: 8 Mi chars (16 MiB), about 2 million tokens,
    /// far above any model's output limit.
    /// </summary>
    public int MaxTextChars { get; init; } = 8 * 1024 * 1024;
}
