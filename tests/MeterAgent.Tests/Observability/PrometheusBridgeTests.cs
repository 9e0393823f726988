using System.Diagnostics.Metrics;
using System.Globalization;
using MeterAgent.Observability;
using Prometheus;

namespace MeterAgent.Tests.Observability;

/// <summary>
/// The bridge finds a measurement's series by its label values' identity first: whatever the instances, every
/// measurement must land in the series its label text names, once, however many series there are.
/// </summary>
public sealed class PrometheusBridgeTests
{
    [Fact]
    public async Task Equal_label_text_counts_in_one_series_whether_or_not_the_strings_are_the_same_instances()
    {
        var registry = Metrics.NewCustomRegistry();
        using var meter = new Meter("bridge-test-" + Guid.NewGuid().ToString("N"));
        using var bridge = new PrometheusBridge(registry, instrument => instrument.Meter == meter);
        var requests = meter.CreateCounter<long>("meteragent.requests", "{request}");
        var duration = meter.CreateHistogram<double>("meteragent.test.duration", "s");

        const string Surface = "openai.chat_completions";
        for (var i = 0; i < 5; i++)
        {
            // The same instances every time (as the agent passes them), then copies with the same text.
            requests.Add(1, Tag("surface", Surface), Tag("model", "gpt-4o-mini"));
            requests.Add(2, Tag("surface", new string(Surface.AsSpan())), Tag("model", new string("gpt-4o-mini".AsSpan())));
            duration.Record(0.25, Tag("surface", Surface));
            duration.Record(0.75, Tag("surface", new string(Surface.AsSpan())));
        }

        requests.Add(7, Tag("surface", Surface), Tag("model", "other"));

        var scrape = await ScrapeAsync(registry);
        Assert.Equal(15, scrape["meteragent_requests_total{surface=\"openai.chat_completions\",model=\"gpt-4o-mini\"}"]);
        Assert.Equal(7, scrape["meteragent_requests_total{surface=\"openai.chat_completions\",model=\"other\"}"]);
        Assert.Equal(10, scrape["meteragent_test_duration_seconds_count{surface=\"openai.chat_completions\"}"]);
        Assert.Equal(5, scrape["meteragent_test_duration_seconds_sum{surface=\"openai.chat_completions\"}"]);
    }

    [Fact]
    public async Task More_series_than_the_cache_holds_are_each_counted_exactly()
    {
        var registry = Metrics.NewCustomRegistry();
        using var meter = new Meter("bridge-test-" + Guid.NewGuid().ToString("N"));
        using var bridge = new PrometheusBridge(registry, instrument => instrument.Meter == meter);
        var tokens = meter.CreateCounter<long>("meteragent.tokens", "{token}");

        // 300 series, each its own instances, measured in rounds so every slot is contended by many series.
        var models = Enumerable.Range(0, 300).Select(i => "model-" + i.ToString(CultureInfo.InvariantCulture)).ToArray();
        for (var round = 1; round <= 3; round++)
        {
            for (var i = 0; i < models.Length; i++)
            {
                tokens.Add(i + 1, Tag("model", models[i]), Tag("basis", "reference"));
            }
        }

        var scrape = await ScrapeAsync(registry);
        for (var i = 0; i < models.Length; i++)
        {
            Assert.Equal(3 * (i + 1), scrape[$"meteragent_tokens_total{{model=\"model-{i}\",basis=\"reference\"}}"]);
        }
    }

    private static KeyValuePair<string, object?> Tag(string key, string value) => new(key, value);

    /// <summary>Sample name with labels → value, from the registry's text exposition.</summary>
    private static async Task<Dictionary<string, double>> ScrapeAsync(CollectorRegistry registry)
    {
        using var stream = new MemoryStream();
        await registry.CollectAndExportAsTextAsync(stream);
        var samples = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var line in System.Text.Encoding.UTF8.GetString(stream.ToArray()).Split('\n'))
        {
            if (line.Length == 0 || line[0] == '#')
            {
                continue;
            }

            var space = line.LastIndexOf(' ');
            samples[line[..space]] = double.Parse(line[(space + 1)..], CultureInfo.InvariantCulture);
        }

        return samples;
    }
}
