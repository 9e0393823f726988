namespace MeterAgent.Metering.Tokenization;

/// <summary>
/// The frozen reference tokenizer: o200k_base. Text that looks like a special token is ordinary text,
/// so a count equals tiktoken's encode(text, allowed_special=(), disallowed_special=()).
/// Thread-safe; one shared instance.
/// </summary>
public sealed class ReferenceTokenizer
{
    public static ReferenceTokenizer Instance => throw new NotImplementedException();

    /// <summary>"o200k_base".</summary>
    public string Name => "o200k_base";

    /// <summary>Hex SHA-256 of the rank data (the .tiktoken file bytes) the counts come from.</summary>
    public string RankDataSha256 => throw new NotImplementedException();

    public int CountTokens(ReadOnlySpan<char> text) => throw new NotImplementedException();

    public long CountTokens(IReadOnlyList<string> segments) => throw new NotImplementedException();
}
