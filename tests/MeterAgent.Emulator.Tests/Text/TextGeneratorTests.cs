using System.Text;
using MeterAgent.Emulator.Text;

namespace MeterAgent.Emulator.Tests.Text;

public sealed class TextGeneratorTests
{
    [Theory]
    [InlineData(1UL, 1)]
    [InlineData(2UL, 7)]
    [InlineData(3UL, 64)]
    [InlineData(0xDEADBEEFUL, 500)]
    public void Generated_text_retokenizes_to_the_requested_count(ulong seed, int tokens)
    {
        var text = TextGenerator.Generate(seed, tokens);

        Assert.Equal(tokens, text.TokenCount);
        Assert.Equal(tokens, NativeTokenizer.Count(text.Text));
    }

    [Fact]
    public void Token_slices_concatenate_to_the_whole_text()
    {
        var text = TextGenerator.Generate(42, 100);
        var joined = new StringBuilder();
        for (var i = 0; i < text.TokenCount; i += 3)
        {
            joined.Append(text.Slice(i, Math.Min(3, text.TokenCount - i)));
        }

        Assert.Equal(text.Text, joined.ToString());
    }

    [Fact]
    public void Same_seed_same_text_and_different_seed_different_text()
    {
        Assert.Equal(TextGenerator.Generate(7, 50).Text, TextGenerator.Generate(7, 50).Text);
        Assert.NotEqual(TextGenerator.Generate(7, 50).Text, TextGenerator.Generate(8, 50).Text);
    }

    [Fact]
    public void Long_outputs_contain_multi_byte_characters_of_every_width()
    {
        var text = TextGenerator.Generate(5, 2000).Text;
        var widths = text.EnumerateRunes().Select(r => r.Utf8SequenceLength).ToHashSet();

        Assert.Contains(2, widths);
        Assert.Contains(3, widths);
        Assert.Contains(4, widths);
    }

    [Fact]
    public void Vocabulary_needs_no_json_escaping()
    {
        // GeneratedTextJson writes vocabulary text raw into JSON strings; that is only valid without these.
        var all = Vocabulary.WordPieces.Concat(Vocabulary.PunctuationPieces).SelectMany(p => p);
        foreach (var piece in all)
        {
            Assert.DoesNotContain(piece, c => c is '"' or '\\' || char.IsControl(c));
        }
    }

    [Fact]
    public void Stable_hash_is_fixed_across_processes()
    {
        // Pinned from an independent FNV-1a over UTF-16LE bytes plus the 0xFF separator (computed in Python);
        // if this changes, every recorded emulator output changes with it.
        var hash = new StableHash();
        hash.Add("hello");
        Assert.Equal(0x6BB466323F0221B8UL, hash.Value);
    }
}
