namespace MeterAgent.Metering.Requests;

/// <summary>Rewrites an OpenAI chat/completions streaming request so the upstream reports usage in a final chunk.</summary>
public static class StreamUsageRequest
{
    /// <summary>
    /// Returns the body with stream_options.include_usage = true (other stream_options members kept),
    /// every other member byte-for-byte as it was.
    /// </summary>
    public static byte[] AddIncludeUsage(ReadOnlySpan<byte> utf8Json) => throw new NotImplementedException();
}
