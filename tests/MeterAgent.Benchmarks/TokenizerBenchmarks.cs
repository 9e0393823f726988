using BenchmarkDotNet.Attributes;
using MeterAgent.Benchmarks.Payloads;
using MeterAgent.Metering.Tokenization;

namespace MeterAgent.Benchmarks;

/// <summary>
/// The reference count (o200k_base) over text of typical sizes. The same text is counted every time, so the
/// tokenizer's per-word cache is warm, as it is for the common words of real traffic; a cold count is slower.
/// </summary>
[MemoryDiagnoser]
public class TokenizerBenchmarks
{
    private string _text = "";

    public enum Sample
    {
        English1K,
        English16K,
        Cjk1K,
        Cjk16K,
    }

    [Params(Sample.English1K, Sample.English16K, Sample.Cjk1K, Sample.Cjk16K)]
    public Sample Text { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        // Sizes are UTF-8 bytes, as a body size is; a CJK character is three of them.
        _text = Text switch
        {
            Sample.English1K => SampleText.EnglishOf(1024),
            Sample.English16K => SampleText.EnglishOf(16 * 1024),
            Sample.Cjk1K => SampleText.CjkOf(1024 / 3),
            _ => SampleText.CjkOf(16 * 1024 / 3),
        };
        _ = ReferenceTokenizer.Instance.CountTokens(_text);
    }

    [Benchmark]
    public int CountTokens() => ReferenceTokenizer.Instance.CountTokens(_text);
}
