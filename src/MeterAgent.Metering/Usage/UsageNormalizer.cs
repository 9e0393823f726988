using MeterAgent.Metering.Responses.Readers;

namespace MeterAgent.Metering.Usage;

/// <summary>
/// Reads each surface's usage object into the OpenTelemetry GenAI convention (input includes cached, output includes
/// reasoning). Every count goes through <see cref="UsageCount"/>; <c>suspect</c> is set (never cleared) when a count
/// was out of range or of the wrong kind, or a part exceeds its total (cached over input, reasoning over output).
/// </summary>
internal static class UsageNormalizer
{
    /// <summary>
    /// Chat completions, completions, embeddings (prompt_tokens, completion_tokens and their details), or the Responses
    /// API (<paramref name="responsesApi"/>: input_tokens, output_tokens and theirs): input already includes cached, output
    /// reasoning. Only the member names differ.
    /// </summary>
    public static NativeUsage FromOpenAI(ReadOnlySpan<byte> data, JsonRef usage, bool responsesApi, ref bool suspect)
    {
        var (input, output, inputDetails, outputDetails) = responsesApi
            ? Read(data, usage, "input_tokens"u8, "output_tokens"u8, "input_tokens_details"u8, "output_tokens_details"u8)
            : Read(data, usage, "prompt_tokens"u8, "completion_tokens"u8, "prompt_tokens_details"u8, "completion_tokens_details"u8);
        return Checked(
            input: UsageCount.Read(data, input, ref suspect) ?? 0,
            cached: Detail(data, inputDetails, "cached_tokens"u8, ref suspect),
            output: UsageCount.Read(data, output, ref suspect) ?? 0,
            reasoning: Detail(data, outputDetails, "reasoning_tokens"u8, ref suspect),
            ref suspect);
    }

    /// <summary>Anthropic reports input_tokens without cache reads and writes; GenAI input includes both.</summary>
    /// <remarks>The counts are already in range (<see cref="UsageCount"/>), so the sum cannot overflow.</remarks>
    public static NativeUsage FromAnthropic(long input, long cacheCreation, long cacheRead, long output) =>
        new(input + cacheCreation + cacheRead, cacheRead, cacheCreation, output, 0);

    private static NativeUsage Checked(long input, long cached, long output, long reasoning, ref bool suspect)
    {
        if (cached > input || reasoning > output)
        {
            // Pricing floors the uncached and visible parts at zero; the record still says the upstream contradicted itself.
            suspect = true;
        }

        return new NativeUsage(input, cached, 0, output, reasoning);
    }

    /// <summary>The usage object's two counts and two detail objects (both OpenAI shapes have the same four).</summary>
    private static (JsonRef Input, JsonRef Output, JsonRef InputDetails, JsonRef OutputDetails) Read(
        ReadOnlySpan<byte> data, JsonRef usage,
        ReadOnlySpan<byte> inputName, ReadOnlySpan<byte> outputName, ReadOnlySpan<byte> inputDetailsName, ReadOnlySpan<byte> outputDetailsName)
    {
        JsonRef input = default, output = default, inputDetails = default, outputDetails = default;
        var cursor = JsonCursor.Open(data, usage);
        while (cursor.NextMember())
        {
            _ = cursor.Take(inputName, ref input) || cursor.Take(outputName, ref output)
                || cursor.Take(inputDetailsName, ref inputDetails) || cursor.Take(outputDetailsName, ref outputDetails)
                || cursor.Skip();
        }

        return (input, output, inputDetails, outputDetails);
    }

    private static long Detail(ReadOnlySpan<byte> data, JsonRef details, ReadOnlySpan<byte> name, ref bool suspect)
    {
        if (!details.IsObject)
        {
            return 0;
        }

        JsonRef value = default;
        var cursor = JsonCursor.Open(data, details);
        while (cursor.NextMember())
        {
            _ = cursor.Take(name, ref value) || cursor.Skip();
        }

        return UsageCount.Read(data, value, ref suspect) ?? 0;
    }
}
