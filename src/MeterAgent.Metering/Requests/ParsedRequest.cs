using MeterAgent.Metering.Surfaces;

namespace MeterAgent.Metering.Requests;

/// <summary>What metering needs of a request body, nothing more.</summary>
public sealed class ParsedRequest
{
    public required ApiSurface Surface { get; init; }

    public required string Model { get; init; }

    public bool Stream { get; init; }

    /// <summary>max_tokens / max_completion_tokens / max_output_tokens, when the client set one.</summary>
    public long? MaxOutputTokens { get; init; }

    /// <summary>The client itself asked for stream_options.include_usage = true.</summary>
    public bool ClientRequestedStreamUsage { get; init; }

    /// <summary>
    /// Canonical input text segments (docs/canonical-text.md) not yet counted: all of them, unless the parser was given a
    /// tokenizer (then short text is counted as parsed, in <see cref="InputTokensCounted"/>).
    /// </summary>
    public required IReadOnlyList<string> InputSegments { get; init; }

    /// <summary>
    /// Reference tokens of the input text already counted; the input's reference count is this plus the count of
    /// <see cref="InputSegments"/>.
    /// </summary>
    public long InputTokensCounted { get; init; }

    /// <summary>The input has parts that cannot be re-tokenized (images, audio, files, token arrays).</summary>
    public bool HasNonTextInput { get; init; }
}
