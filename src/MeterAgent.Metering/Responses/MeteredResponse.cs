using MeterAgent.Metering.Usage;

namespace MeterAgent.Metering.Responses;

/// <summary>What the tap learned from one response.</summary>
public sealed class MeteredResponse
{
    /// <summary>Usage as the upstream reported it; null when it reported none.</summary>
    public NativeUsage? NativeUsage { get; init; }

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
