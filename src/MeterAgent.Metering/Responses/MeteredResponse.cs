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

    /// <summary>
    /// Canonical output text segments (docs/canonical-text.md) not yet counted: all of them, unless the meter was given a
    /// tokenizer (then short text is counted as collected, in <see cref="OutputTokensCounted"/>).
    /// </summary>
    public required IReadOnlyList<string> OutputSegments { get; init; }

    /// <summary>
    /// Reference tokens of the output text already counted; the output's reference count is this plus the count of
    /// <see cref="OutputSegments"/>.
    /// </summary>
    public long OutputTokensCounted { get; init; }

    /// <summary>The stream reached its terminal event ([DONE], response.completed, message_stop) or the JSON body was complete.</summary>
    public bool Complete { get; init; }

    /// <summary>An event or body could not be parsed; metering used what it could.</summary>
    public bool Malformed { get; init; }

    /// <summary>The upstream sent an error (error event or error body): its type or code.</summary>
    public string? UpstreamError { get; init; }

    /// <summary>
    /// The tap stopped keeping part of the response because it passed a bound (<see cref="ResponseMeterLimits"/>): a
    /// JSON body over MaxBodyBytes (native usage still read, output text not), an SSE line/event over MaxEventBytes (that
    /// event not read), or output text over MaxTextChars (the rest not kept). Every byte still reached the client.
    /// The reference output count then understates what was delivered: the host should record the quality as truncated
    /// and bill at least a floor from <see cref="DeliveredBytes"/>, so that a response over a bound never costs less
    /// than one under it.
    /// </summary>
    public bool Truncated { get; init; }

    /// <summary>Why <see cref="Truncated"/> is set, for the record (short, human-readable); null when it is not.</summary>
    public string? TruncatedReason { get; init; }

    /// <summary>
    /// Bytes the client was given for this response (everything passed on, less a hidden usage chunk), always set.
    /// A floor the host may bill when <see cref="Truncated"/>: ceil(DeliveredBytes / 4) output tokens, roughly what
    /// that much English text tokenises to (JSON framing makes it generous; dense non-Latin text can tokenise denser).
    /// </summary>
    public long DeliveredBytes { get; init; }
}
