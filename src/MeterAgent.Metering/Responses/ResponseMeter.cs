using MeterAgent.Metering.Surfaces;

namespace MeterAgent.Metering.Responses;

/// <summary>
/// Taps one upstream response as it passes, without holding it back: SSE is parsed incrementally
/// (events may be split anywhere, mid-line or mid-UTF-8 character), JSON is kept once and parsed at the end.
/// Not thread-safe: one instance per response, fed in order.
/// </summary>
public sealed class ResponseMeter
{
    /// <param name="surface">The API surface.</param>
    /// <param name="contentType">The upstream Content-Type (text/event-stream or application/json; anything else is only passed through).</param>
    /// <param name="hideUsageChunk">OpenAI streams only: drop the usage-only chunk (choices empty, usage set) the proxy asked for
    /// on the client's behalf. Everything else reaches the client byte-identical.</param>
    public ResponseMeter(ApiSurface surface, string? contentType, bool hideUsageChunk) => throw new NotImplementedException();

    /// <summary>Set once the first chunk carrying generated content (a text or tool delta, or a complete JSON body) has been seen.</summary>
    public bool SawFirstToken => throw new NotImplementedException();

    /// <summary>
    /// Feeds the next upstream chunk and returns what the client must receive for it: the same memory when nothing is
    /// hidden (the usual case), otherwise a slice of an internal buffer that stays valid until the next call.
    /// </summary>
    public ReadOnlyMemory<byte> Process(ReadOnlyMemory<byte> chunk) => throw new NotImplementedException();

    /// <summary>Ends the response (also after a disconnect: what was seen so far is what was delivered).</summary>
    /// <returns>The bytes still held back (an incomplete trailing event when hiding), to send before finishing, and the metering result.</returns>
    public (ReadOnlyMemory<byte> Remaining, MeteredResponse Result) Complete() => throw new NotImplementedException();
}
