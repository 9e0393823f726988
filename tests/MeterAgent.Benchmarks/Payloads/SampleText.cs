using System.Text;

namespace MeterAgent.Benchmarks.Payloads;

/// <summary>
/// Deterministic prose for the tokenizer and the generated streams. It is real-looking text rather than random
/// letters because BPE cost depends on how often pieces hit long merges, and tiktoken's word cache sees repeats
/// the way it does in real traffic (common words again and again).
/// </summary>
internal static class SampleText
{
    private const string English =
        "The clearing house notifies the model provider at delivery, and credits land in the enterprise's account. "
        + "Every request that passes through the proxy is tokenized twice: once by the upstream, which reports its own "
        + "usage, and once by the meter, which counts a canonical text form with a frozen reference tokenizer. "
        + "Operators want to know why a bill differs from what a client expected, so both numbers are recorded, "
        + "together with the contract units they convert to. Streams are parsed as they pass; nothing is held back. "
        + "A client that disconnects halfway is charged for what it received, no more and no less. "
        + "If the upstream fails, the reservation is voided and the record says so, with the HTTP status it saw. "
        + "Numbers such as 1,024 tokens, 3.14159 or 2025-06-30T12:00:00Z split into short pieces; code like "
        + "`foreach (var x in items) { total += x.Count; }` and URLs like https://example.com/v1/chat/completions do too. ";

    private const string Cjk =
        "推理令牌正在成为一种可交易的商品。企业在交易所购买令牌期货，交割时清算所通知模型提供商，"
        + "额度便记入企业在该提供商处的账户。计量代理是提供商的计量与交付代理：它对每个请求和响应进行分词和计量，"
        + "包括流式响应，并为每个请求写入一条持久的用量记录。"
        + "推論トークンは取引可能な商品になりつつあります。企業は取引所でトークン先物を購入し、"
        + "受け渡し時に清算機関がモデル提供者へ通知します。ストリームは通過しながら解析され、何も保留されません。"
        + "추론 토큰은 거래 가능한 상품이 되고 있습니다. 스트림은 지나가면서 구문 분석됩니다. ";

    /// <summary>English prose of about <paramref name="chars"/> characters, cut at a word boundary.</summary>
    public static string EnglishOf(int chars) => Repeat(English, chars);

    /// <summary>Chinese, Japanese and Korean prose of about <paramref name="chars"/> characters.</summary>
    public static string CjkOf(int chars) => Repeat(Cjk, chars);

    /// <summary>The English prose as a list of words with their leading space, as a model streams them.</summary>
    public static string[] StreamPieces(int count)
    {
        var words = English.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var pieces = new string[count];
        for (var i = 0; i < count; i++)
        {
            // A line break every so often, and a non-ASCII word, so the JSON has escapes and multi-byte UTF-8 in it.
            pieces[i] = (i % 37) switch
            {
                36 => "\n\n",
                17 => " café",
                29 => " 日本語",
                _ => " " + words[i % words.Length],
            };
        }

        return pieces;
    }

    private static string Repeat(string source, int chars)
    {
        var builder = new StringBuilder(chars + source.Length);
        while (builder.Length < chars)
        {
            builder.Append(source);
        }

        var cut = chars;
        while (cut < builder.Length && !char.IsWhiteSpace(builder[cut]) && cut - chars < 32)
        {
            cut++;
        }

        return builder.ToString(0, Math.Min(cut, builder.Length));
    }
}
