using System.Text.Json;

namespace MeterAgent.Metering.Requests;

/// <summary>Rewrites an OpenAI chat/completions streaming request so the upstream reports usage in a final chunk.</summary>
public static class StreamUsageRequest
{
    private static readonly byte[] StreamOptionsMember = """
        "stream_options":{"include_usage":true}
        """u8.ToArray();

    private static readonly byte[] IncludeUsageMember = "\"include_usage\":true"u8.ToArray();

    /// <summary>
    /// Returns the body with stream_options.include_usage = true (other stream_options members kept),
    /// every other member byte-for-byte as it was. Reads with the same depth limit as <see cref="RequestParser"/>, and
    /// relies on it having rejected repeated members: the first stream_options is the only one.
    /// </summary>
    /// <exception cref="JsonException">The body is not a JSON object (parse it with <see cref="RequestParser"/> first).</exception>
    public static byte[] AddIncludeUsage(ReadOnlySpan<byte> utf8Json)
    {
        var reader = new Utf8JsonReader(utf8Json, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Skip, MaxDepth = DuplicateMember.MaxDepth });
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            throw new JsonException("The request body is not a JSON object.");
        }

        var rootOpenEnd = (int)reader.BytesConsumed;
        var rootHasMembers = false;
        while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
        {
            rootHasMembers = true;
            var isStreamOptions = reader.ValueTextEquals("stream_options"u8);
            reader.Read();
            if (isStreamOptions && reader.TokenType == JsonTokenType.StartObject)
            {
                return SpliceIntoStreamOptions(utf8Json, ref reader);
            }

            if (isStreamOptions)
            {
                // stream_options: null (or another non-object): replace the value with the object we need.
                var valueStart = (int)reader.TokenStartIndex;
                reader.Skip();
                var valueEnd = (int)reader.BytesConsumed;
                return Splice(utf8Json, valueStart, valueEnd, """{"include_usage":true}"""u8);
            }

            reader.Skip();
        }

        if (reader.TokenType != JsonTokenType.EndObject)
        {
            throw new JsonException("The request body is not a complete JSON object.");
        }

        // No stream_options: a new first member, so nothing after it moves relative to its neighbours.
        return rootHasMembers
            ? Insert(utf8Json, rootOpenEnd, StreamOptionsMember, ","u8)
            : Insert(utf8Json, rootOpenEnd, StreamOptionsMember, default);
    }

    private static byte[] SpliceIntoStreamOptions(ReadOnlySpan<byte> utf8Json, ref Utf8JsonReader reader)
    {
        var openEnd = (int)reader.BytesConsumed;
        var hasMembers = false;
        while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
        {
            hasMembers = true;
            var isIncludeUsage = reader.ValueTextEquals("include_usage"u8);
            reader.Read();
            var valueStart = (int)reader.TokenStartIndex;
            reader.Skip();
            if (isIncludeUsage)
            {
                return Splice(utf8Json, valueStart, (int)reader.BytesConsumed, "true"u8);
            }
        }

        return hasMembers
            ? Insert(utf8Json, openEnd, IncludeUsageMember, ","u8)
            : Insert(utf8Json, openEnd, IncludeUsageMember, default);
    }

    private static byte[] Splice(ReadOnlySpan<byte> source, int start, int end, ReadOnlySpan<byte> replacement)
    {
        var result = new byte[source.Length - (end - start) + replacement.Length];
        source[..start].CopyTo(result);
        replacement.CopyTo(result.AsSpan(start));
        source[end..].CopyTo(result.AsSpan(start + replacement.Length));
        return result;
    }

    private static byte[] Insert(ReadOnlySpan<byte> source, int at, ReadOnlySpan<byte> member, ReadOnlySpan<byte> separator)
    {
        var result = new byte[source.Length + member.Length + separator.Length];
        source[..at].CopyTo(result);
        member.CopyTo(result.AsSpan(at));
        separator.CopyTo(result.AsSpan(at + member.Length));
        source[at..].CopyTo(result.AsSpan(at + member.Length + separator.Length));
        return result;
    }
}
