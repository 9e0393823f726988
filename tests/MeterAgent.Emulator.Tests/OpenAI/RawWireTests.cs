using System.Text.Json;

namespace MeterAgent.Emulator.Tests.OpenAI;

/// <summary>Wire-level checks of the OpenAI surfaces the SDK tests do not reach.</summary>
public sealed class RawWireTests
{
    private const string ResponsesRequest = """{"model":"emulator-reasoning","instructions":"Be brief.","input":[{"role":"user","content":[{"type":"input_text","text":"Hi there"}]}],"stream":STREAM}""";

    [Fact]
    public async Task Completions_stream_follows_include_usage_and_ends_with_done()
    {
        await using var server = await RunningEmulator.StartAsync(new EmulatorOptions { DefaultOutputTokens = 5 });

        using var withUsage = await server.PostAsync("/v1/completions", """{"model":"m","prompt":"Once upon","stream":true,"stream_options":{"include_usage":true}}""");
        using var without = await server.PostAsync("/v1/completions", """{"model":"m","prompt":"Once upon","stream":true}""");
        using var whole = await server.PostAsync("/v1/completions", """{"model":"m","prompt":"Once upon"}""");

        var events = SseEvent.Parse(await withUsage.Content.ReadAsByteArrayAsync());
        Assert.Equal("[DONE]", events[^1].Data);
        var chunks = events.Take(events.Count - 1).Select(e => e.Json).ToList();
        Assert.All(chunks, c => Assert.Equal("text_completion", c.GetProperty("object").GetString()));
        Assert.All(chunks.Take(chunks.Count - 1), c => Assert.Equal(JsonValueKind.Null, c.GetProperty("usage").ValueKind));
        var usageChunk = chunks[^1];
        Assert.Equal(0, usageChunk.GetProperty("choices").GetArrayLength());
        Assert.Equal("stop", chunks[^2].GetProperty("choices")[0].GetProperty("finish_reason").GetString());

        var wholeJson = JsonDocument.Parse(await whole.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(wholeJson.GetProperty("usage").GetRawText(), usageChunk.GetProperty("usage").GetRawText());
        Assert.Equal(
            wholeJson.GetProperty("choices")[0].GetProperty("text").GetString(),
            string.Concat(chunks.SkipLast(1).Select(c => c.GetProperty("choices")[0].GetProperty("text").GetString())));

        var plain = SseEvent.Parse(await without.Content.ReadAsByteArrayAsync());
        Assert.All(plain.SkipLast(1), e => Assert.False(e.Json.TryGetProperty("usage", out _)));
        Assert.Equal(chunks.Count - 1, plain.Count - 1);
    }

    [Fact]
    public async Task Responses_stream_has_the_real_event_sequence_and_numbering()
    {
        await using var server = await RunningEmulator.StartAsync(new EmulatorOptions { DefaultOutputTokens = 40, TokensPerEvent = 4 });

        using var response = await server.PostAsync("/v1/responses", ResponsesRequest.Replace("STREAM", "true", StringComparison.Ordinal));
        var events = SseEvent.Parse(await response.Content.ReadAsByteArrayAsync());

        // 40 output tokens on a reasoning model: 32 hidden, 8 visible, 2 deltas of 4.
        string[] expected =
        [
            "response.created", "response.in_progress", "response.output_item.added", "response.content_part.added",
            "response.output_text.delta", "response.output_text.delta",
            "response.output_text.done", "response.content_part.done", "response.output_item.done", "response.completed",
        ];
        Assert.Equal(expected, events.Select(e => e.Event));
        for (var i = 0; i < events.Count; i++)
        {
            Assert.Equal(events[i].Event, events[i].Json.GetProperty("type").GetString());
            Assert.Equal(i, events[i].Json.GetProperty("sequence_number").GetInt32());
        }

        var deltas = string.Concat(events.Where(e => e.Event == "response.output_text.delta").Select(e => e.Json.GetProperty("delta").GetString()));
        Assert.Equal(deltas, events[6].Json.GetProperty("text").GetString());

        var completed = events[^1].Json.GetProperty("response");
        Assert.Equal("completed", completed.GetProperty("status").GetString());
        Assert.Equal(deltas, completed.GetProperty("output")[0].GetProperty("content")[0].GetProperty("text").GetString());
        var usage = completed.GetProperty("usage");
        Assert.Equal(40, usage.GetProperty("output_tokens").GetInt32());
        Assert.Equal(32, usage.GetProperty("output_tokens_details").GetProperty("reasoning_tokens").GetInt32());

        // "Be brief." 4 + "Hi there" 3, two messages of overhead.
        Assert.Equal(4 + 3 + 6, usage.GetProperty("input_tokens").GetInt32());
        Assert.Equal(0, usage.GetProperty("input_tokens_details").GetProperty("cached_tokens").GetInt32());

        using var whole = await server.PostAsync("/v1/responses", ResponsesRequest.Replace("STREAM", "false", StringComparison.Ordinal));
        var wholeJson = JsonDocument.Parse(await whole.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal("response", wholeJson.GetProperty("object").GetString());
        Assert.Equal(completed.GetRawText(), wholeJson.GetRawText());
    }

    [Theory]
    [InlineData("/v1/chat/completions", """{"model":"m","messages":[{"role":"user","content":"determinism"}],"stream":true,"stream_options":{"include_usage":true}}""")]
    [InlineData("/v1/chat/completions", """{"model":"m","messages":[{"role":"user","content":"determinism"}]}""")]
    [InlineData("/v1/completions", """{"model":"m","prompt":["a","b"]}""")]
    [InlineData("/v1/responses", """{"model":"m","input":"determinism","stream":true}""")]
    [InlineData("/v1/embeddings", """{"model":"m","input":["determinism"]}""")]
    [InlineData("/v1/messages", """{"model":"m","max_tokens":100,"messages":[{"role":"user","content":"determinism"}],"stream":true}""")]
    public async Task Same_request_gives_the_same_bytes(string path, string body)
    {
        await using var server = await RunningEmulator.StartAsync();

        using var first = await server.PostAsync(path, body);
        using var second = await server.PostAsync(path, body);

        Assert.Equal(200, (int)first.StatusCode);
        Assert.Equal(await first.Content.ReadAsByteArrayAsync(), await second.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task Different_prompts_give_different_text()
    {
        await using var server = await RunningEmulator.StartAsync();

        using var a = await server.PostAsync("/v1/chat/completions", """{"model":"m","messages":[{"role":"user","content":"one"}]}""");
        using var b = await server.PostAsync("/v1/chat/completions", """{"model":"m","messages":[{"role":"user","content":"two"}]}""");

        static string Text(string json) => JsonDocument.Parse(json).RootElement.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString()!;
        Assert.NotEqual(Text(await a.Content.ReadAsStringAsync()), Text(await b.Content.ReadAsStringAsync()));
    }

    [Fact]
    public async Task Non_ascii_goes_out_as_raw_utf8_even_outside_the_bmp()
    {
        await using var server = await RunningEmulator.StartAsync(new EmulatorOptions { DefaultOutputTokens = 2000 });

        using var response = await server.PostAsync("/v1/chat/completions", """{"model":"m","messages":[{"role":"user","content":"x"}],"stream":true}""");
        var body = await response.Content.ReadAsStringAsync();

        Assert.Contains("\U0001F680", body, StringComparison.Ordinal);
        Assert.Contains("caf\u00e9", body, StringComparison.Ordinal);
        Assert.DoesNotContain("\\uD83D", body, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Models_and_stats_endpoints_answer_json()
    {
        await using var server = await RunningEmulator.StartAsync();
        using (await server.PostAsync("/v1/chat/completions", """{"model":"m","messages":[{"role":"user","content":"hi"}]}""")) { }

        var models = JsonDocument.Parse(await server.Http.GetStringAsync("v1/models")).RootElement;
        var stats = JsonDocument.Parse(await server.Http.GetStringAsync("emulator/stats")).RootElement;

        Assert.Equal("list", models.GetProperty("object").GetString());
        Assert.Contains(models.GetProperty("data").EnumerateArray(), m => m.GetProperty("id").GetString() == "emulator-reasoning");
        Assert.Equal(1, stats.GetProperty("requestsReceived").GetInt64());
        Assert.Equal(1, stats.GetProperty("requestsCompleted").GetInt64());
        Assert.Equal(64, stats.GetProperty("completionTokens").GetInt64());
    }
}
