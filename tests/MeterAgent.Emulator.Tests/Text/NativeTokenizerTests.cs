using MeterAgent.Emulator.Text;

namespace MeterAgent.Emulator.Tests.Text;

public sealed class NativeTokenizerTests
{
    [Theory]
    [InlineData("", 0)]
    [InlineData("a", 1)]
    [InlineData("abcd", 1)]
    [InlineData("abcde", 2)]
    [InlineData("hello world", 4)]           // "hello" 2, " world" 2
    [InlineData("hi, there.", 4)]            // "hi" 1, "," 1, " there" 2 -> 4? "." 1 => see below
    [InlineData("caf\u00e9", 1)]             // four letters, one of them two UTF-8 bytes
    [InlineData("\u6570\u636e", 1)]          // CJK letters are letters
    [InlineData("\U0001F680", 1)]            // an emoji is one symbol, though two UTF-16 units
    [InlineData("a ", 2)]                    // trailing whitespace is a token of its own
    [InlineData("   x", 1)]                  // leading whitespace attaches to the word
    [InlineData("o200k", 2)]
    public void Counts_by_the_documented_rule(string text, int expected)
    {
        if (text == "hi, there.")
        {
            expected = 5; // "hi" 1 + "," 1 + " there" 2 + "." 1
        }

        Assert.Equal(expected, NativeTokenizer.Count(text));
    }

    [Fact]
    public void Differs_from_a_byte_pair_tokenizer_on_long_words()
    {
        // "internationalization" is 20 letters: 5 native tokens, where o200k gives far fewer.
        Assert.Equal(5, NativeTokenizer.Count("internationalization"));
    }
}
