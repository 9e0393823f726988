using System.Text;
using MeterAgent.Metering.Tokenization;

namespace MeterAgent.Metering.Tests.Tokenization;

/// <summary>
/// Every piece is merged by our own O(n log n) byte-pair merge instead of the library's (quadratic, and its tokenizer
/// object holds ~45 MB the count does not need). The two must count every piece identically; the library
/// (cross-checked against js-tiktoken) is the oracle.
/// </summary>
public sealed class LongPieceTests
{
    private static readonly ReferenceTokenizer Tokenizer = ReferenceTokenizer.Instance;

    // Scripts and symbols for pieces the pre-tokenizer keeps whole: letter runs (one case pattern), and symbol runs.
    private const string Latin = "abcdefghijklmnopqrstuvwxyz";
    private const string Cyrillic = "абвгдежзийклмнопрстуфхцчшщъыьэюя";
    private const string Greek = "αβγδεζηθικλμνξοπρστυφχψω";
    private const string Cjk = "的一是不了人我在有他这中大来上国个到说们为子和你地出道也时年得就那要下以生会自着去之过家学对可她里后小么心多天而能好都然没日于起还发成事只作当想看文无开手十用主行方又如前所本见经头面公同三已老从动两长知民样现分将外但身些与高意进把法此实回二理美点月明其种声全工己话儿者向情部正名定女问力机给等几很业最间新什打便位因重被走电四第门相次东政海口使教西再平真听世气信北少关并内加化由却代军产入先山五太水万市眼体别处总才场师书比住员九笑性通目华报立马命张活难神数件安表原车白应路期叫死常提感金何更反合放做系计或司利受光王果亲界及今京务制解各任至清物台象记边共风战干接它许八特觉望直服毛林题建南度统色字请交爱让认算论百吃义科怎元社术结六功指思非流每青管夫连远资队跟带花快条院变联言权往展该领传近留红治决周保达办运武半候七必城父强步完革深区即求品士转量空甚众技轻程告江语英基派满式李息写呢识极令黄德收脸钱党倒未持音随";
    private const string Hangul = "가나다라마바사아자차카타파하각난닫랄맘밥삿앙잦찿캌탙팦핳";
    private const string Symbols = "=-*#~_+.!?@$%^&|<>[]{}";
    private static readonly string[] Emoji = ["🙂", "🎉", "👍", "🧑", "🚀", "❤", "✨", "🔥"];

    [Fact]
    public void Long_pieces_count_the_same_as_the_library_merge()
    {
        var random = new Random(20261124);
        var mismatches = new StringBuilder();
        var checkedPieces = 0;
        foreach (var piece in LongPieces(random))
        {
            // Each must be one pre-token, or the library would count its parts separately.
            Assert.Equal(piece.Length, O200kPreTokenizer.NextEnd(piece, 0));
            var expected = Tokenizer.CountTokensWithLibrary(piece);
            var ours = Tokenizer.CountLongPiece(piece);
            if (ours != expected)
            {
                mismatches.Append(System.Globalization.CultureInfo.InvariantCulture, $"{Describe(piece)}: ours {ours}, library {expected}\n");
            }

            checkedPieces++;
        }

        Assert.True(checkedPieces > 200, $"only {checkedPieces} pieces");
        Assert.True(mismatches.Length == 0, "Long-piece counts differ from the library's:\n" + mismatches);
    }

    [Fact]
    public void Short_texts_of_every_kind_count_the_same_as_the_library()
    {
        // Every piece, not only long ones, is merged by our counter: ordinary words, mixed scripts, digits, white space,
        // emoji and symbols, in runs the pre-tokenizer splits every way it can.
        string[] alphabets = [Latin, Latin.ToUpperInvariant(), Cyrillic, Greek, Cjk[..200], Hangul, Symbols, "0123456789", " \n\t", "'’"];
        var random = new Random(20261130);
        var mismatches = new StringBuilder();
        for (var round = 0; round < 20_000; round++)
        {
            var text = new StringBuilder();
            var parts = random.Next(1, 8);
            for (var part = 0; part < parts; part++)
            {
                if (random.Next(10) == 0)
                {
                    text.Append(Emoji[random.Next(Emoji.Length)]);
                }
                else
                {
                    text.Append(Random(random, alphabets[random.Next(alphabets.Length)], random.Next(1, 12)));
                }
            }

            var value = text.ToString();
            var expected = Tokenizer.CountTokensWithLibrary(value);

            // Twice: the second count reads the pieces that took a merge from the tokenizer's memory of them.
            var ours = Tokenizer.CountTokens(value);
            var again = Tokenizer.CountTokens(value);
            if ((ours != expected || again != expected) && mismatches.Length < 4_000)
            {
                mismatches.Append(System.Globalization.CultureInfo.InvariantCulture, $"{Describe(value)}: ours {ours} then {again}, library {expected}\n");
            }
        }

        Assert.True(mismatches.Length == 0, "Counts differ from the library's:\n" + mismatches);
    }

    [Fact]
    public void The_memory_of_merged_pieces_is_bounded_and_counts_stay_exact_past_it()
    {
        // More distinct multi-token words than the memory holds (random letters are rarely one token), from four threads
        // at once: requests fill it concurrently, and its last places must not go to several of them.
        Parallel.For(0, 4, new ParallelOptions { MaxDegreeOfParallelism = 4 }, thread =>
        {
            var random = new Random(20261201 + thread);
            for (var i = 0; i < (ReferenceTokenizer.MergedPieceCapacity + 2_000) / 4; i++)
            {
                var word = Random(random, Latin, 14);
                Assert.Equal(Tokenizer.CountTokensWithLibrary(word), Tokenizer.CountTokens(word));
            }
        });

        Assert.InRange(Tokenizer.MergedPieceCount, 1, ReferenceTokenizer.MergedPieceCapacity);
    }

    [Fact]
    public void Text_with_long_pieces_counts_the_same_as_the_library_alone()
    {
        // Whole texts: the split, the routing by length and the sum must add nothing and lose nothing.
        var random = new Random(7);
        var pieces = LongPieces(random).ToList();
        for (var round = 0; round < 40; round++)
        {
            var text = new StringBuilder();
            for (var part = 0; part < 6; part++)
            {
                text.Append(random.Next(4) switch
                {
                    0 => pieces[random.Next(pieces.Count)],
                    1 => " some ordinary words, 123 and \"quotes\"\n",
                    2 => Random(random, Latin, random.Next(1, 200)),
                    _ => " ",
                });
            }

            var value = text.ToString();
            Assert.Equal(Tokenizer.CountTokensWithLibrary(value), Tokenizer.CountTokens(value));
        }
    }

    [Theory]
    [InlineData(129)]
    [InlineData(130)]
    [InlineData(1_000)]
    [InlineData(1_001)]
    [InlineData(1_007)]
    [InlineData(4_999)]
    [InlineData(5_000)]
    public void A_run_of_a_is_one_token_per_eight_and_the_remainder_as_tiktoken_splits_it(int length)
    {
        // js-tiktoken (TokenizerCorpus) and the library agree on these; the rule they follow predicts the long runs below.
        var text = new string('a', length);
        Assert.Equal(Tokenizer.CountTokensWithLibrary(text), Tokenizer.CountTokens(text));
        Assert.Equal(ARunTokens(length), Tokenizer.CountTokens(text));
    }

    [Theory]
    [InlineData(100_000)]
    [InlineData(1_000_000)]
    [InlineData(1_000_007)]
    public void A_long_run_of_a_is_counted_exactly(int length)
    {
        // One piece; before the O(n log n) merge, 100k characters took ~7 s and a million would have taken hours.
        Assert.Equal(ARunTokens(length), Tokenizer.CountTokens(new string('a', length)));
    }

    [Fact]
    public void A_lone_surrogate_in_a_long_piece_counts_as_tiktoken_replaces_it()
    {
        // tiktoken encodes a lone surrogate as U+FFFD; so does the long-piece path (js-tiktoken gives 27 for this).
        var text = new string('!', 200) + "\ud800" + new string('!', 200);
        Assert.Equal(27, Tokenizer.CountTokens(text));
        Assert.Equal(Tokenizer.CountLongPiece(new string('!', 200) + "\ufffd" + new string('!', 200)), Tokenizer.CountTokens(text));
    }

    /// <summary>'a' × 8 is one token; a remainder of 1–4 is one more, of 5–7 two more (aaaa + a, aa or aaa).</summary>
    private static int ARunTokens(int length) => (length / 8) + (length % 8) switch
    {
        0 => 0,
        <= 4 => 1,
        _ => 2,
    };

    private static IEnumerable<string> LongPieces(Random random)
    {
        // Lengths from just past the threshold to a few thousand bytes: the library's merge is quadratic.
        int Length() => random.Next(3) switch
        {
            0 => random.Next(ReferenceTokenizer.LongPieceBytes + 1, 300),
            1 => random.Next(300, 1_200),
            _ => random.Next(1_200, 3_000),
        };

        for (var i = 0; i < 30; i++)
        {
            yield return new string((char)('a' + random.Next(26)), Length());
            yield return Random(random, Latin, Length());
            yield return Random(random, Latin[..random.Next(2, 5)], Length());
            yield return Repeat(Random(random, Latin, random.Next(2, 6)), Length());
            yield return Random(random, Cyrillic, Length() / 2);
            yield return Random(random, Greek + Cyrillic + Latin, Length() / 2);
            yield return Random(random, Cjk, Length() / 3);
            yield return Repeat(Random(random, Cjk, random.Next(1, 4)), Length() / 3);
            yield return Random(random, Hangul + Cjk, Length() / 3);
            yield return Random(random, Symbols, Length());
            yield return new string(Symbols[random.Next(Symbols.Length)], Length());
            yield return " " + Random(random, Symbols, Length()) + "\n/";
            yield return RandomEmoji(random, Length() / 4);
            // Capitalised words run together are one piece too: an upper-case letter then lower case.
            yield return "X" + Random(random, Latin, Length());
        }

        yield return Repeat("ab", 1_500);
        yield return Repeat("abc", 1_000);
        yield return Repeat("the", 1_000);
        yield return Repeat("你好", 500);
        yield return Repeat("🙂", 500);
    }

    private static string Random(Random random, string alphabet, int length)
    {
        var runes = alphabet.EnumerateRunes().ToArray();
        var builder = new StringBuilder(length * 2);
        for (var i = 0; i < length; i++)
        {
            builder.Append(runes[random.Next(runes.Length)].ToString());
        }

        return builder.ToString();
    }

    private static string RandomEmoji(Random random, int count)
    {
        var builder = new StringBuilder(count * 2);
        for (var i = 0; i < count; i++)
        {
            builder.Append(Emoji[random.Next(Emoji.Length)]);
        }

        return builder.ToString();
    }

    private static string Repeat(string unit, int length)
    {
        var builder = new StringBuilder(length + unit.Length);
        while (builder.Length < length)
        {
            builder.Append(unit);
        }

        return builder.ToString();
    }

    private static string Describe(string piece) =>
        (piece.Length <= 40 ? piece : piece[..40] + "…") + $" ({Encoding.UTF8.GetByteCount(piece)} bytes)";
}
