using MeterAgent.Metering.Surfaces;

namespace MeterAgent.Metering.Requests;

/// <summary>Reads model, stream flag, max output and the canonical input text from a request body with Utf8JsonReader / JsonDocument.</summary>
public static class RequestParser
{
    /// <summary>Malformed JSON, a non-object body or a missing/empty "model" give an invalid result with a message a client can act on.</summary>
    public static RequestParseResult Parse(ApiSurface surface, ReadOnlySpan<byte> utf8Json) => throw new NotImplementedException();
}
