using System.Net;
using CsCheck;
using MeterAgent.Ledger.Usage;

namespace MeterAgent.AdversarialTests;

/// <summary>
/// Generated request bodies with repeated members, type-confused fields and extreme numbers, sent one by one through
/// the agent to the emulator: each is refused before the upstream sees it, or metered exactly as the emulator served it.
/// </summary>
public sealed class GeneratedBodyTests : IAsyncLifetime
{
    private ClearingHouse _house = null!;
    private TestAgent _agent = null!;

    public async Task InitializeAsync()
    {
        _house = ClearingHouse.Create();
        _agent = await TestAgent.StartAsync(settings: _house.AgentSettings());
        await ClearingHouse.DeliverAsync(_agent.Admin, _house.Notice(_agent.AccountId, 10_000_000));
    }

    public async Task DisposeAsync()
    {
        await _agent.DisposeAsync();
        _house.Dispose();
    }

    private static Gen<string> Pick(params string[] values) => Gen.Int[0, values.Length - 1].Select(i => values[i]);

    private static readonly Gen<string> Stream = Pick("true", "false", "true", "false", "\"true\"", "1", "null");

    private static readonly Gen<string> StreamOptions = Pick(
        """{"include_usage":true}""", """{"include_usage":false}""", "{}", "null", """{"include_usage":true}""", """{"include_usage":"yes"}""", "\"on\"");

    private static readonly Gen<string> MaxTokens = Gen.OneOf(
        Gen.Int[0, 40].Select(n => n.ToString(System.Globalization.CultureInfo.InvariantCulture)),
        Gen.Int[1, 40].Select(n => n.ToString(System.Globalization.CultureInfo.InvariantCulture)),
        Pick("-1", "0", "2147483648", "1e2", "16.0", "\"16\"", "null", "99999999999999999999"));

    private static readonly Gen<string> Messages = Pick(
        """[{"role":"user","content":"Price the strip."}]""",
        """[{"role":"user","content":[{"type":"text","text":"Quote it."}]}]""",
        """[{"role":"user","content":"Price the strip."}]""",
        """"just a string"""",
        """[{"role":"user","content":42}]""");

    /// <summary>The members of one body; some appear twice, with different values.</summary>
    private static readonly Gen<string> Body =
        Gen.Select(Stream, StreamOptions, MaxTokens, Messages, Gen.Int[0, 9], Gen.Select(Stream, MaxTokens, Messages),
            (stream, options, max, messages, repeat, other) =>
            {
                var members = new List<string>
                {
                    "\"model\":\"emu-chat\"", $"\"stream\":{stream}", $"\"stream_options\":{options}",
                    $"\"max_tokens\":{max}", $"\"messages\":{messages}",
                };
                switch (repeat)
                {
                    case 1: members.Add($"\"stream\":{other.Item1}"); break;
                    case 2: members.Insert(0, $"\"max_tokens\":{other.Item2}"); break;
                    case 3: members.Add($"\"messages\":{other.Item3}"); break;
                    case 4: members.Add("\"stream_options\":{\"include_usage\":false}"); break;
                }

                return "{" + string.Join(',', members) + "}";
            });

    [Fact]
    public async Task Every_generated_body_is_refused_before_the_upstream_or_metered_as_the_upstream_served_it()
    {
        var served = 0;
        await Body.SampleAsync(async body =>
        {
            var stats = _agent.Emulator.Stats;
            var (received, streams, completion) = (stats.RequestsReceived, stats.StreamsStarted, stats.CompletionTokens);
            using var request = _agent.OpenAIRequest("v1/chat/completions", body);
            using var response = await _agent.Http.SendAsync(request);
            var text = await response.Content.ReadAsStringAsync();
            var record = await _agent.RecordForAsync(response);

            if (record.Status == UsageStatus.Rejected)
            {
                Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
                Assert.Equal(received, stats.RequestsReceived);
                return;
            }

            // The emulator refuses some bodies the agent passes (its own validation): they cost nothing.
            if (record.Status == UsageStatus.UpstreamError)
            {
                Assert.Equal(0, record.RedeemedMicro);
                return;
            }

            Assert.True(record.Status == UsageStatus.Completed, $"{record.Status} for {body}: {text}");
            Interlocked.Increment(ref served);
            Assert.Equal(received + 1, stats.RequestsReceived);

            // Metered as served: the stream the emulator ran is the one recorded, and every completion token it
            // generated is in the native count; the units price what was delivered, never less.
            Assert.Equal(stats.StreamsStarted - streams == 1, record.Stream);
            Assert.Equal(stats.CompletionTokens - completion, record.NativeOutputTokens);
            Assert.Equal((record.ReferenceInputTokens + (2 * record.ReferenceOutputTokens)) * 1_000_000, record.UnitsMicro);
            Assert.Equal(record.UnitsMicro, record.RedeemedMicro + record.OverageMicro);
        }, iter: 150, threads: 1);

        Assert.True(served > 10, $"only {served} generated bodies were served: the generator is too hostile to test metering");
    }
}
