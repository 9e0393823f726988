using System.ClientModel;
using System.Text;
using MeterAgent.Emulator.Text;
using OpenAI;
using OpenAI.Chat;

namespace MeterAgent.Emulator.Tests.OpenAI;

/// <summary>The official OpenAI .NET SDK, unchanged, against the emulator.</summary>
public sealed class ChatClientTests
{
    private static ChatClient Client(RunningEmulator server, string model = "emulator-chat", string key = "sk-test") =>
        new(model, new ApiKeyCredential(key), new OpenAIClientOptions { Endpoint = server.OpenAIEndpoint });

    [Fact]
    public async Task CompleteChat_returns_text_and_usage_the_sdk_understands()
    {
        await using var server = await RunningEmulator.StartAsync();
        var client = Client(server);

        ChatCompletion completion = await client.CompleteChatAsync([new SystemChatMessage("Be brief."), new UserChatMessage("Say hello")]);

        Assert.Equal(ChatFinishReason.Stop, completion.FinishReason);
        Assert.Equal(ChatMessageRole.Assistant, completion.Role);
        var text = Assert.Single(completion.Content).Text;
        Assert.Equal(64, NativeTokenizer.Count(text));
        Assert.StartsWith("chatcmpl-", completion.Id, StringComparison.Ordinal);
        Assert.Equal("emulator-chat", completion.Model);

        // "Be brief." = 2 + 1 + 1 + 1... by the native rule: "Be" 1, " brief" 2, "." 1 = 4; "Say hello" = 1 + 2 = 3; 3 per message.
        Assert.Equal(4 + 3 + 2 * 3, completion.Usage.InputTokenCount);
        Assert.Equal(64, completion.Usage.OutputTokenCount);
        Assert.Equal(completion.Usage.InputTokenCount + 64, completion.Usage.TotalTokenCount);
        Assert.Equal(0, completion.Usage.InputTokenDetails.CachedTokenCount);
        Assert.Equal(0, completion.Usage.OutputTokenDetails.ReasoningTokenCount);
    }

    [Fact]
    public async Task Max_tokens_caps_output_and_finishes_with_length()
    {
        await using var server = await RunningEmulator.StartAsync();

        ChatCompletion completion = await Client(server).CompleteChatAsync(
            [new UserChatMessage("Count")],
            new ChatCompletionOptions { MaxOutputTokenCount = 10 });

        Assert.Equal(ChatFinishReason.Length, completion.FinishReason);
        Assert.Equal(10, completion.Usage.OutputTokenCount);
        Assert.Equal(10, NativeTokenizer.Count(completion.Content[0].Text));
    }

    [Fact]
    public async Task Reasoning_models_report_hidden_reasoning_inside_output_tokens()
    {
        await using var server = await RunningEmulator.StartAsync();

        ChatCompletion completion = await Client(server, "emulator-reasoning").CompleteChatAsync([new UserChatMessage("Think")]);

        Assert.Equal(64, completion.Usage.OutputTokenCount);
        Assert.Equal(32, completion.Usage.OutputTokenDetails.ReasoningTokenCount);
        Assert.Equal(32, NativeTokenizer.Count(completion.Content[0].Text));
    }

    [Fact]
    public async Task Long_prompts_report_cached_tokens_in_whole_blocks()
    {
        await using var server = await RunningEmulator.StartAsync();
        var prompt = string.Join(' ', Enumerable.Repeat("word", 150)); // 150 native tokens

        ChatCompletion completion = await Client(server).CompleteChatAsync([new UserChatMessage(prompt)]);

        Assert.Equal(153, completion.Usage.InputTokenCount);
        Assert.Equal(128, completion.Usage.InputTokenDetails.CachedTokenCount);
    }

    [Fact]
    public async Task Streaming_delivers_the_same_text_and_usage_as_the_whole_response()
    {
        await using var server = await RunningEmulator.StartAsync(new EmulatorOptions { TokensPerEvent = 3 });
        var client = Client(server, "emulator-reasoning");
        ChatMessage[] messages = [new UserChatMessage("Stream caf\u00e9 \U0001F680 please")];

        ChatCompletion whole = await client.CompleteChatAsync(messages);
        var streamed = new StringBuilder();
        ChatTokenUsage? usage = null;
        ChatFinishReason? finish = null;
        var updates = 0;
        await foreach (var update in client.CompleteChatStreamingAsync(messages))
        {
            updates++;
            foreach (var part in update.ContentUpdate)
            {
                streamed.Append(part.Text);
            }

            usage ??= update.Usage;
            finish ??= update.FinishReason;
        }

        Assert.Equal(whole.Content[0].Text, streamed.ToString());
        Assert.Equal(ChatFinishReason.Stop, finish);
        Assert.NotNull(usage); // the SDK asks for include_usage; the emulator must answer with a usage chunk
        Assert.Equal(whole.Usage.InputTokenCount, usage.InputTokenCount);
        Assert.Equal(whole.Usage.OutputTokenCount, usage.OutputTokenCount);
        Assert.Equal(whole.Usage.OutputTokenDetails.ReasoningTokenCount, usage.OutputTokenDetails.ReasoningTokenCount);
        Assert.Equal(whole.Usage.InputTokenDetails.CachedTokenCount, usage.InputTokenDetails.CachedTokenCount);

        // 32 visible tokens at 3 per event: 11 content chunks, plus role, finish and usage chunks.
        Assert.Equal(11 + 3, updates);
    }

    [Fact]
    public async Task Injected_errors_surface_as_the_sdk_exception_with_the_status()
    {
        await using var server = await RunningEmulator.StartAsync(new EmulatorOptions { Fault = "error:503" });
        var client = new ChatClient("emulator-chat", new ApiKeyCredential("k"), new OpenAIClientOptions
        {
            Endpoint = server.OpenAIEndpoint,
            RetryPolicy = new System.ClientModel.Primitives.ClientRetryPolicy(maxRetries: 0),
        });

        var error = await Assert.ThrowsAsync<ClientResultException>(() => client.CompleteChatAsync([new UserChatMessage("x")]));

        Assert.Equal(503, error.Status);
        Assert.Equal(1, server.Stats.FaultsInjected);
    }

    [Fact]
    public async Task Wrong_api_key_is_refused_with_401()
    {
        await using var server = await RunningEmulator.StartAsync(new EmulatorOptions { RequiredApiKey = "sk-right" });

        var error = await Assert.ThrowsAsync<ClientResultException>(() => Client(server, key: "sk-wrong").CompleteChatAsync([new UserChatMessage("x")]));
        ChatCompletion ok = await Client(server, key: "sk-right").CompleteChatAsync([new UserChatMessage("x")]);

        Assert.Equal(401, error.Status);
        Assert.NotEmpty(ok.Content[0].Text);
        Assert.Equal(1, server.Stats.RequestsReceived);
        Assert.Equal(1, server.Stats.RequestsUnauthorized);
    }
}
