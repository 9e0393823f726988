using MeterAgent.Metering.Tokenization;

namespace MeterAgent.Metering.Tests.Tokenization;

public sealed class ReferenceTokenizerTests
{
    private static readonly ReferenceTokenizer Tokenizer = ReferenceTokenizer.Instance;

    [Fact]
    public void Rank_data_is_the_published_o200k_base_file()
    {
        // The hash tiktoken itself checks when it downloads o200k_base.tiktoken.
        Assert.Equal("446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d", Tokenizer.RankDataSha256);
        Assert.Equal("o200k_base", Tokenizer.Name);
    }

    [Theory]
    [InlineData("", 0)]
    [InlineData("hello world", 2)]
    [InlineData("<|endoftext|>", 7)]
    public void Counts_known_texts(string text, int expected) => Assert.Equal(expected, Tokenizer.CountTokens(text));

    [Theory]
    [InlineData("<|endofprompt|>", 7)]
    [InlineData("a<|endoftext|>b", 9)]
    [InlineData("<|endoftext|><|endoftext|>", 13)]
    public void Special_token_text_is_counted_as_ordinary_text(string text, int expected)
    {
        // As a special token each would be 1; these are js-tiktoken's encode(text, [], []) counts.
        Assert.Equal(expected, Tokenizer.CountTokens(text));
    }

    [Fact]
    public void Segments_are_counted_separately_and_summed()
    {
        string[] segments = ["user", "hello world", "", "<|endoftext|>"];
        Assert.Equal(1 + 2 + 0 + 7, Tokenizer.CountTokens(segments));
    }

    [Fact]
    public void A_100k_character_run_is_one_token_per_eight()
    {
        // One piece. Its count once took ~7 s (a quadratic merge); LongPieceTests covers the speed-up and longer runs.
        // Eight 'a' merge into one token (tiktoken gives 1250 for 10,000 of them; the cross-check confirms it).
        Assert.Equal(12_500, Tokenizer.CountTokens(new string('a', 100_000)));
    }
}
