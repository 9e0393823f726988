using System.Diagnostics;

namespace MeterAgent.Emulator.Tests.Pipeline;

public sealed class PacingTests
{
    [Fact]
    public async Task Time_to_first_token_and_rate_headers_shape_the_stream()
    {
        await using var server = await RunningEmulator.StartAsync(new EmulatorOptions { DefaultOutputTokens = 10 });
        var clock = Stopwatch.StartNew();

        using var response = await server.PostAsync(
            "/v1/chat/completions",
            """{"model":"m","messages":[{"role":"user","content":"x"}],"stream":true}""",
            HttpCompletionOption.ResponseHeadersRead,
            ("x-emulator-ttft-ms", "300"),
            ("x-emulator-tokens-per-second", "50"));
        await response.Content.ReadAsByteArrayAsync();
        var doneAt = clock.Elapsed;

        // The TTFT (300 ms), then 10 tokens at 50/s: 9 gaps of 20 ms. Only a lower bound on the whole exchange: a busy
        // machine can delay when the client sees the headers or the events, never make the stream shorter.
        Assert.True(doneAt >= TimeSpan.FromMilliseconds(300 + 170), $"the stream ended after {doneAt}");
    }

    [Fact]
    public async Task Latency_delays_the_response_headers()
    {
        await using var server = await RunningEmulator.StartAsync(new EmulatorOptions { Latency = TimeSpan.FromMilliseconds(250) });
        var clock = Stopwatch.StartNew();

        using var response = await server.PostAsync("/v1/embeddings", """{"model":"m","input":"x"}""");

        Assert.Equal(200, (int)response.StatusCode);
        Assert.True(clock.Elapsed >= TimeSpan.FromMilliseconds(240), $"answered after {clock.Elapsed}");
    }
}
