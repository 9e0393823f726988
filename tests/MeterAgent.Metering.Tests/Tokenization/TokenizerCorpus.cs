using System.Text;

namespace MeterAgent.Metering.Tests.Tokenization;

/// <summary>Texts where tokenizer implementations tend to drift apart.</summary>
internal static class TokenizerCorpus
{
    public static IReadOnlyList<string> Items()
    {
        var items = new List<string>
        {
            "hello world",
            "Hello, World! How's it going? I'M FINE, THEY'RE HERE, we'll see, you'd've",
            "don't DON'T Don'T it's IT'S o'clock rock'n'roll ' 's 'S",
            "<|endoftext|>",
            "<|endofprompt|>",
            "before<|endoftext|>after <|endofprompt|> <|fim_prefix|><|fim_middle|><|fim_suffix|><|im_start|>user<|im_end|>",
            "<|endoftext|><|endoftext|><|endoftext|>",
            "< |endoftext| > <|ENDOFTEXT|> <|endoftext",
            "你好，世界！这是一个测试。中华人民共和国",
            "日本語のテキストとカタカナ、ひらがな。漢字も。",
            "한국어 텍스트입니다. 안녕하세요!",
            "𠀀𠀁𠀂 𪚥 𩸽 CJK Extension B",
            "𝐀𝐁𝐂 𝒜𝒷𝒸 𝟎𝟏𝟐𝟑𝟒 mathematical alphanumerics",
            "👍 👍🏽 👨‍👩‍👧‍👦 🏳️‍🌈 👩🏾‍💻 🧑‍🤝‍🧑",
            "🇺🇸🇬🇧🇯🇵🇩🇪🇫🇷 flags 🏴󠁧󠁢󠁳󠁣󠁴󠁿",
            "😀😃😄😁😆😅😂🤣☺️😊",
            "Mixed: English, русский, Ελληνικά, עברית, العربية, हिन्दी, ไทย, 中文, emoji 🎉",
            "é e\u0301 n\u0303 a\u0308\u0304 \u0301\u0301\u0301 Zalgo: Z\u0351\u036b\u0343a\u0352l\u0357g\u0356o",
            "public static int Main(string[] args) { return args.Length > 0 ? 1 : 0; } // comment",
            "def f(x):\n    return [i ** 2 for i in range(x) if i % 2 == 0]\n\n\nprint(f(10))\n",
            "{\"type\":\"object\",\"properties\":{\"location\":{\"type\":\"string\",\"description\":\"City, e.g. Paris\"}},\"required\":[\"location\"]}",
            "SELECT * FROM users WHERE id = 42 AND name LIKE '%o''brien%';",
            "https://example.com/path/to/file.html?q=1&r=2#frag /usr/local/bin//\n/etc/",
            "1 12 123 1234 12345 123456 3.14159 -0.001 1e10 1,000,000 ١٢٣٤ ४२ 一二三 ½ ⅓ Ⅻ",
            "   leading and trailing   ",
            "\t\ttabs\tand\nnewlines\r\nwindows\rmac\n\n\n\n",
            " \n \n\t\n  x",
            "a  b   c    d     e",
            "\u00a0non\u00a0breaking\u2003em\u2003space\u3000ideographic\u3000space\u2028line\u2029para",
            "trailing spaces    ",
            "!!!???...;;;:::---___===+++***&&&^^^%%%$$$###@@@",
            "\"quoted\" 'single' `back` «guillemets» „low“ ‘curly’",
            "ALLCAPS CamelCaseWord camelCase snake_case kebab-case SCREAMING_SNAKE",
            "ǅungla ǈudevit ǋekic titlecase",
            "ʰʲʷ modifier ˈletters ˌhere",
            "",
            " ",
            "\n",
            "a",
        };

        items.Add(new string('a', 10_000));
        items.Add(Repeat("aaa ", 5_000));
        items.Add(Repeat("a a ", 5_000));
        items.Add(new string(' ', 2_000) + "x");
        items.Add(new string('\n', 3_000));
        // 100k characters, split by the pattern into many pieces (one 100k-character piece is quadratic in js-tiktoken's BPE).
        items.Add(Repeat("aaa ", 25_000));
        items.Add(Repeat("ab", 1_000));
        items.Add(Repeat("你好", 500));
        items.Add(Repeat("🙂", 500));
        items.Add(Repeat("<|endoftext|>", 2_000));
        items.Add(new string('1', 10_001));

        // Pieces past ReferenceTokenizer.LongPieceBytes, which our own merge counts. Kept to ~3 s of js-tiktoken in all:
        // its merge is worse than quadratic (the 10,000 'a' above alone take ~10 s).
        var random = new Random(42);
        items.Add(new string('a', 129));
        items.Add(new string('a', 1_007));
        items.Add(RandomOf(random, "abcdefghijklmnopqrstuvwxyz", 2_000));
        items.Add(RandomOf(random, "ab", 1_500));
        items.Add("Q" + RandomOf(random, "etaoinshrdlu", 1_000));
        items.Add(RandomOf(random, "абвгдежзийклмнопрстуфхцчшщъыьэюя", 1_000));
        items.Add(RandomOf(random, "的一是不了人我在有他这中大来上国个到说们为子和你", 500));
        items.Add(RandomOf(random, "가나다라마바사아자차카타파하각난닫랄맘밥삿앙잦찿캌탙팦핳", 500));
        items.Add(Repeat("abc", 500));
        items.Add(new string('=', 1_000));
        items.Add(" " + RandomOf(random, "=-*#~_+.!?@$%^&|<>[]{}", 1_500) + "\n/");
        items.Add(Repeat("🚀✨🔥❤", 100));
        items.Add(new string('!', 200) + "\ud800" + new string('!', 200));

        // Lone surrogates in short text: tiktoken counts them as U+FFFD.
        items.Add("\ud800");
        items.Add("€\ud800");
        items.Add("a\udc00b and \ud83d more");
        return items;
    }

    private static string RandomOf(Random random, string alphabet, int length)
    {
        var builder = new StringBuilder(length);
        for (var i = 0; i < length; i++)
        {
            builder.Append(alphabet[random.Next(alphabet.Length)]);
        }

        return builder.ToString();
    }

    private static string Repeat(string unit, int count)
    {
        var builder = new StringBuilder(unit.Length * count);
        for (var i = 0; i < count; i++)
        {
            builder.Append(unit);
        }

        return builder.ToString();
    }
}
