using MeterAgent.Metering.Usage;

namespace MeterAgent.Metering.Responses;

/// <summary>What the tap learned from one response.</summary>
public sealed class MeteredResponse
{
    /// <summary>Usage as the upstream reported it; null when it reported none.</summary>
    public NativeUsage? NativeUsage { get; init; }

    /// <summary>
    /// <see cref="NativeUsage"/> is the upstream's final report, not a running or placeholder one: a non-streaming body's
    /// usage; an OpenAI stream's usage-only chunk (or the last usage before [DONE]); a Responses terminal event's usage;
    /// an Anthropic stream's usage once a message_delta carried it (message_start's output_tokens is a placeholder 1).
    /// False when <see cref="NativeUsage"/> is null. When false, native output counts understate what was delivered.
    /// </summary>
    public bool NativeUsageFinal { get; init; }

    /// <summary>
    /// Some usage count the upstream sent was not a plain integer in [0, 10^12] (negative, fractional, exponent,
    /// overflowing, a string...) or a part exceeded its total (cached over input, reasoning over output). The counts in
    /// <see cref="NativeUsage"/> are already brought into range (negatives to 0, huge to 10^12, fractions rounded up,
    /// non-numbers as absent); the host should record the quality as suspect and not trust them over its reference count.
    /// </summary>
    public bool NativeUsageSuspect { get; init; }

    /// <summary>The model the upstream says served the request.</summary>
    public string? ServedModel { get; init; }

    /// <summary>Canonical output text segments (docs/canonical-text.md).</summary>
    public required IReadOnlyList<string> OutputSegments { get; init; }

    /// <summary>The stream reached its terminal event ([DONE], response.completed, message_stop) or the JSON body was complete.</summary>
    public bool Complete { get; init; }

    /// <summary>An event or body could not be parsed; metering used what it could.</summary>
    public bool Malformed { get; init; }

    /// <summary>The upstream sent an error (error event or error body): its type or code.</summary>
    public string? UpstreamError { get; init; }
}
