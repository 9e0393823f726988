using System.Diagnostics;

namespace MeterAgent.Emulator.Tests.Pipeline;

public sealed class PacingTests
{
    [Fact]
    public async Task Time_to_first_token_and_rate_headers_shape_the_stream()
    {
        await using var server = await EmulatorServer.StartAsync(new EmulatorOptions { DefaultOutputTokens = 10 });
        var clock = Stopwatch.StartNew();

        using var response = await server.PostAsync(
            "/v1/chat/completions",
            """{"model":"m","messages":[{"role":"user","content":"x"}],"stream":true}""",
            HttpCompletionOption.ResponseHeadersRead,
            ("x-emulator-ttft-ms", "300"),
            ("x-emulator-tokens-per-second", "50"));
        var headersAt = clock.Elapsed;
        await response.Content.ReadAsByteArrayAsync();
        var doneAt = clock.Elapsed;

        // The TTFT runs after the headers (so the whole 300 ms falls between headers and end), then 10 tokens
        // at 50/s take 9 gaps of 20 ms. Measured from the headers rather than against a wall-clock bound on
        // them, which a cold server on a busy machine can miss.
        var afterHeaders = doneAt - headersAt;
        Assert.True(afterHeaders >= TimeSpan.FromMilliseconds(300 + 170), $"headers at {headersAt}, done at {doneAt}");
    }

    [Fact]
    public async Task Latency_delays_the_response_headers()
    {
        await using var server = await EmulatorServer.StartAsync(new EmulatorOptions { Latency = TimeSpan.FromMilliseconds(250) });
        var clock = Stopwatch.StartNew();

        using var response = await server.PostAsync("/v1/embeddings", """{"model":"m","input":"x"}""");

        Assert.Equal(200, (int)response.StatusCode);
        Assert.True(clock.Elapsed >= TimeSpan.FromMilliseconds(240), $"answered after {clock.Elapsed}");
    }
}
