using System.Text.Json;

namespace MeterAgent.Emulator.Tests.Pipeline;

public sealed class ValidationTests
{
    [Theory]
    [InlineData("/v1/chat/completions", "{not json", null)]
    [InlineData("/v1/chat/completions", """{"messages":[{"role":"user","content":"x"}]}""", "model")]
    [InlineData("/v1/chat/completions", """{"model":"m"}""", "messages")]
    [InlineData("/v1/chat/completions", """{"model":"m","messages":[{"role":"user","content":"x"}],"max_tokens":0}""", "max_tokens")]
    [InlineData("/v1/completions", """{"model":"m"}""", "prompt")]
    [InlineData("/v1/responses", """{"model":"m"}""", "input")]
    [InlineData("/v1/embeddings", """{"model":"m","input":[1,2]}""", "input")]
    public async Task OpenAI_routes_answer_400_in_the_openai_error_shape(string path, string body, string? param)
    {
        await using var server = await RunningEmulator.StartAsync();

        using var response = await server.PostAsync(path, body);

        Assert.Equal(400, (int)response.StatusCode);
        var error = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("error");
        Assert.Equal("invalid_request_error", error.GetProperty("type").GetString());
        Assert.False(string.IsNullOrEmpty(error.GetProperty("message").GetString()));
        Assert.Equal(param, error.GetProperty("param").GetString());
        Assert.True(error.TryGetProperty("code", out _));
        Assert.Equal(1, server.Stats.RequestsRejected);
    }

    [Theory]
    [InlineData("[1,2]")]
    [InlineData("{bad")]
    [InlineData("""{"max_tokens":10,"messages":[{"role":"user","content":"x"}]}""")]
    [InlineData("""{"model":"m","max_tokens":10}""")]
    [InlineData("""{"model":"m","messages":[{"role":"user","content":"x"}]}""")]
    public async Task Anthropic_route_answers_400_in_the_anthropic_error_shape(string body)
    {
        await using var server = await RunningEmulator.StartAsync();

        using var response = await server.PostAsync("/v1/messages", body);

        Assert.Equal(400, (int)response.StatusCode);
        var root = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal("error", root.GetProperty("type").GetString());
        Assert.Equal("invalid_request_error", root.GetProperty("error").GetProperty("type").GetString());
        Assert.False(string.IsNullOrEmpty(root.GetProperty("error").GetProperty("message").GetString()));
    }

    [Fact]
    public async Task Anthropic_auth_failure_uses_authentication_error()
    {
        await using var server = await RunningEmulator.StartAsync(new EmulatorOptions { RequiredApiKey = "k" });

        using var response = await server.PostAsync("/v1/messages", """{"model":"m","max_tokens":5,"messages":[{"role":"user","content":"x"}]}""", ("x-api-key", "nope"));

        Assert.Equal(401, (int)response.StatusCode);
        var root = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal("authentication_error", root.GetProperty("error").GetProperty("type").GetString());
        Assert.Equal(0, server.Stats.RequestsReceived);
    }

    [Fact]
    public async Task Cache_control_reports_a_cache_write_outside_input_tokens()
    {
        await using var server = await RunningEmulator.StartAsync();
        const string Body = """{"model":"m","max_tokens":5,"system":[{"type":"text","text":"You are terse.","cache_control":{"type":"ephemeral"}}],"messages":[{"role":"user","content":"Hello there"}]}""";

        using var response = await server.PostAsync("/v1/messages", Body);
        var usage = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("usage");

        // "You are terse." 5 ("You", " are", " ter", "se", ".") + "Hello there" 4 + one message 3 = 12 prompt tokens,
        // all of them a cache write (capped at 16), none left as plain input.
        Assert.Equal(12, usage.GetProperty("cache_creation_input_tokens").GetInt32());
        Assert.Equal(0, usage.GetProperty("input_tokens").GetInt32());
        Assert.Equal(0, usage.GetProperty("cache_read_input_tokens").GetInt32());
    }

    [Fact]
    public void Invalid_options_name_the_bad_key()
    {
        var error = Assert.Throws<Microsoft.Extensions.Options.OptionsValidationException>(
            () => EmulatorApp.Build(new EmulatorOptions { TokensPerEvent = 0, Fault = "boom" }, "http://127.0.0.1:0"));

        Assert.Contains("Emulator:TokensPerEvent", error.Message, StringComparison.Ordinal);
        Assert.Contains("Emulator:Fault", error.Message, StringComparison.Ordinal);
    }
}
