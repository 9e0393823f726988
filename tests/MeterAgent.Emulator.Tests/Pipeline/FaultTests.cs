using System.Diagnostics;
using System.Text.Json;

namespace MeterAgent.Emulator.Tests.Pipeline;

/// <summary>Every x-emulator-fault mode, on streams and whole responses, in both API flavors.</summary>
public sealed class FaultTests
{
    private const string ChatStream = """{"model":"m","messages":[{"role":"user","content":"hi"}],"stream":true,"stream_options":{"include_usage":true}}""";
    private const string Chat = """{"model":"m","messages":[{"role":"user","content":"hi"}]}""";
    private const string MessagesStream = """{"model":"m","max_tokens":100,"messages":[{"role":"user","content":"hi"}],"stream":true}""";
    private const string Messages = """{"model":"m","max_tokens":100,"messages":[{"role":"user","content":"hi"}]}""";

    [Fact]
    public async Task Error_uses_the_status_and_each_api_error_shape()
    {
        await using var server = await RunningEmulator.StartAsync();

        using var openAI = await server.PostAsync("/v1/chat/completions", Chat, ("x-emulator-fault", "error:429"));
        using var anthropic = await server.PostAsync("/v1/messages", Messages, ("x-emulator-fault", "error"));

        Assert.Equal(429, (int)openAI.StatusCode);
        var openAIError = JsonDocument.Parse(await openAI.Content.ReadAsStringAsync()).RootElement.GetProperty("error");
        Assert.False(string.IsNullOrEmpty(openAIError.GetProperty("message").GetString()));
        Assert.True(openAIError.TryGetProperty("type", out _));
        Assert.True(openAIError.TryGetProperty("param", out _));
        Assert.True(openAIError.TryGetProperty("code", out _));

        Assert.Equal(500, (int)anthropic.StatusCode);
        var anthropicError = JsonDocument.Parse(await anthropic.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal("error", anthropicError.GetProperty("type").GetString());
        Assert.Equal("api_error", anthropicError.GetProperty("error").GetProperty("type").GetString());
        Assert.Equal(2, server.Stats.FaultsInjected);
        Assert.Equal(0, server.Stats.RequestsCompleted);
    }

    [Theory]
    [InlineData("/v1/chat/completions", ChatStream)]
    [InlineData("/v1/messages", MessagesStream)]
    public async Task Disconnect_cuts_a_stream_after_about_half_its_content(string path, string body)
    {
        await using var server = await RunningEmulator.StartAsync(new EmulatorOptions { DefaultOutputTokens = 20 });

        // Unpaced: the whole first half is written at once just before the cut, and must all reach the client.
        using var response = await server.PostAsync(path, body, HttpCompletionOption.ResponseHeadersRead, ("x-emulator-fault", "disconnect"));
        await using var stream = await response.Content.ReadAsStreamAsync();
        using var reader = new StreamReader(stream);
        var received = new System.Text.StringBuilder();
        var exception = await Record.ExceptionAsync(async () =>
        {
            string? line;
            while ((line = await reader.ReadLineAsync()) is not null)
            {
                received.AppendLine(line);
            }
        });

        Assert.IsAssignableFrom<IOException>(exception);
        var text = received.ToString();
        var deltas = path.Contains("messages", StringComparison.Ordinal)
            ? CountOccurrences(text, "\"content_block_delta\"")
            : CountOccurrences(text, "\"content\":\"") - 1; // the role chunk carries "content":"" too
        Assert.Equal(10, deltas); // 20 tokens, one per event, cut at half
        Assert.DoesNotContain("[DONE]", text, StringComparison.Ordinal);
        Assert.DoesNotContain("message_stop", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Disconnect_truncates_a_whole_response_against_its_content_length()
    {
        await using var server = await RunningEmulator.StartAsync();

        var exception = await Record.ExceptionAsync(async () =>
        {
            using var response = await server.PostAsync("/v1/chat/completions", Chat, ("x-emulator-fault", "disconnect"));
        });

        Assert.IsAssignableFrom<HttpRequestException>(exception);
        Assert.Equal(1, server.Stats.FaultsInjected);
    }

    [Fact]
    public async Task No_usage_removes_usage_everywhere()
    {
        await using var server = await RunningEmulator.StartAsync();
        (string, string) noUsage = ("x-emulator-fault", "no-usage");

        using var chat = await server.PostAsync("/v1/chat/completions", Chat, noUsage);
        using var chatStream = await server.PostAsync("/v1/chat/completions", ChatStream, noUsage);
        using var messages = await server.PostAsync("/v1/messages", Messages, noUsage);
        using var messagesStream = await server.PostAsync("/v1/messages", MessagesStream, noUsage);
        using var responses = await server.PostAsync("/v1/responses", """{"model":"m","input":"hi","stream":true}""", noUsage);

        foreach (var response in new[] { chat, chatStream, messages, messagesStream, responses })
        {
            Assert.Equal(200, (int)response.StatusCode);
            Assert.DoesNotContain("usage", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        var chunks = SseEvent.Parse(await chatStream.Content.ReadAsByteArrayAsync());
        Assert.Equal("[DONE]", chunks[^1].Data);
        Assert.All(chunks.SkipLast(1), c => Assert.NotEqual(0, c.Json.GetProperty("choices").GetArrayLength()));
    }

    [Theory]
    [InlineData("/v1/chat/completions", ChatStream, null)]
    [InlineData("/v1/messages", MessagesStream, "content_block_delta")]
    [InlineData("/v1/responses", """{"model":"m","input":"hi","stream":true}""", "response.output_text.delta")]
    public async Task Malformed_injects_one_invalid_event_mid_stream(string path, string body, string? eventName)
    {
        await using var server = await RunningEmulator.StartAsync(new EmulatorOptions { DefaultOutputTokens = 10 });

        using var response = await server.PostAsync(path, body, ("x-emulator-fault", "malformed"));
        var events = SseEvent.Parse(await response.Content.ReadAsByteArrayAsync());

        var invalid = events.Where(e => e.Data != "[DONE]" && !IsJson(e.Data)).ToList();
        var bad = Assert.Single(invalid);
        Assert.Equal(eventName, bad.Event);
        var index = events.ToList().IndexOf(bad);
        Assert.InRange(index, 2, events.Count - 3); // mid-stream, not first or last
    }

    [Fact]
    public async Task Malformed_truncates_a_whole_json_body()
    {
        await using var server = await RunningEmulator.StartAsync();

        using var response = await server.PostAsync("/v1/messages", Messages, ("x-emulator-fault", "malformed"));
        var body = await response.Content.ReadAsStringAsync();

        Assert.Equal(200, (int)response.StatusCode);
        Assert.StartsWith("{", body, StringComparison.Ordinal);
        Assert.False(IsJson(body));
    }

    [Fact]
    public async Task Hang_never_answers_until_the_client_gives_up()
    {
        await using var server = await RunningEmulator.StartAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMilliseconds(500));
        var clock = Stopwatch.StartNew();

        var request = new HttpRequestMessage(HttpMethod.Post, "v1/chat/completions") { Content = new StringContent(Chat) };
        request.Headers.Add("x-emulator-fault", "hang");
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => server.Http.SendAsync(request, timeout.Token));

        Assert.True(clock.Elapsed >= TimeSpan.FromMilliseconds(450));
        await WaitUntil(() => server.Stats.RequestsCancelled == 1);
        Assert.Equal(0, server.Stats.InFlight);
    }

    [Fact]
    public async Task Option_fault_applies_to_every_request_and_the_header_replaces_it()
    {
        await using var server = await RunningEmulator.StartAsync(new EmulatorOptions { Fault = "error:502" });

        using var defaulted = await server.PostAsync("/v1/chat/completions", Chat);
        using var overridden = await server.PostAsync("/v1/chat/completions", Chat, ("x-emulator-fault", "no-usage"));

        Assert.Equal(502, (int)defaulted.StatusCode);
        Assert.Equal(200, (int)overridden.StatusCode);
    }

    [Fact]
    public async Task Unknown_fault_is_a_400()
    {
        await using var server = await RunningEmulator.StartAsync();

        using var response = await server.PostAsync("/v1/chat/completions", Chat, ("x-emulator-fault", "explode"));

        Assert.Equal(400, (int)response.StatusCode);
        Assert.Contains("explode", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    private static bool IsJson(string text)
    {
        try
        {
            using var _ = JsonDocument.Parse(text);
            return true;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    private static int CountOccurrences(string text, string value)
    {
        var count = 0;
        for (var i = text.IndexOf(value, StringComparison.Ordinal); i >= 0; i = text.IndexOf(value, i + 1, StringComparison.Ordinal))
        {
            count++;
        }

        return count;
    }

    private static Task WaitUntil(Func<bool> condition) => Eventually.TrueAsync(condition, "the emulator's counters settle");
}
