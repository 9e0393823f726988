using System.ClientModel;
using MeterAgent.Ledger.Usage;
using MeterAgent.Metering.Tokenization;
using OpenAI;
using OpenAI.Chat;
using OpenAI.Responses;

namespace MeterAgent.IntegrationTests;

/// <summary>The official OpenAI .NET SDK, pointed at MeterAgent with only the base URL and key changed.</summary>
public sealed class OpenAISdkTests : IAsyncLifetime
{
    private TestAgent _agent = null!;

    public async Task InitializeAsync() => _agent = await TestAgent.StartAsync();

    public async Task DisposeAsync() => await _agent.DisposeAsync();

    private OpenAIClient Client() => new(
        new ApiKeyCredential(_agent.ClientKey),
        new OpenAIClientOptions { Endpoint = new Uri(_agent.ProxyUrl + "v1") });

    private static int Count(string text) => ReferenceTokenizer.Instance.CountTokens(text);

    [Fact]
    public async Task Chat_completion_is_answered_and_its_record_matches_what_the_client_saw()
    {
        var chat = Client().GetChatClient("emu-chat");
        ClientResult<ChatCompletion> result = await chat.CompleteChatAsync(
            [new SystemChatMessage("You are terse."), new UserChatMessage("Tell me about token futures.")],
            new ChatCompletionOptions { MaxOutputTokenCount = 40 });

        var completion = result.Value;
        var text = completion.Content[0].Text;
        Assert.False(string.IsNullOrEmpty(text));

        var usageId = result.GetRawResponse().Headers.TryGetValue("x-meteragent-usage-id", out var id) ? id : null;
        Assert.NotNull(usageId);
        var record = await _agent.RecordAsync(usageId!);
        Assert.Equal(UsageStatus.Completed, record.Status);
        Assert.Equal(200, record.HttpStatus);
        Assert.Equal(_agent.AccountId, record.AccountId);
        Assert.Equal("openai.chat_completions", record.Surface);
        Assert.Equal("emu-chat", record.RequestedModel);
        Assert.Equal(completion.Model, record.ServedModel);
        Assert.False(record.Stream);
        Assert.Equal("native", record.Quality);
        Assert.Equal(completion.Usage.InputTokenCount, record.NativeInputTokens);
        Assert.Equal(completion.Usage.OutputTokenCount, record.NativeOutputTokens);
        Assert.Equal(completion.Usage.InputTokenDetails?.CachedTokenCount ?? 0, record.NativeCachedInputTokens);
        Assert.Equal(Count(text), record.ReferenceOutputTokens);
        Assert.Equal(Count("system") + Count("You are terse.") + Count("user") + Count("Tell me about token futures."), record.ReferenceInputTokens);
        Assert.NotNull(record.EndedAt);
        Assert.NotNull(record.FirstTokenAt);
        Assert.True(record.StartedAt <= record.FirstTokenAt && record.FirstTokenAt <= record.EndedAt);
        Assert.StartsWith("o200k_base:sha256:", record.ReferenceTokenizer);
    }

    [Fact]
    public async Task Streamed_chat_reaches_the_client_whole_and_the_record_has_the_streamed_usage()
    {
        var chat = Client().GetChatClient("emu-chat");
        var text = new System.Text.StringBuilder();
        ChatTokenUsage? usage = null;
        var updates = chat.CompleteChatStreamingAsync(
            [new UserChatMessage("Stream me something about 数据 and 🚀.")],
            new ChatCompletionOptions { MaxOutputTokenCount = 60 });
        await foreach (var update in updates)
        {
            foreach (var part in update.ContentUpdate)
            {
                text.Append(part.Text);
            }

            usage ??= update.Usage;
        }

        Assert.NotNull(usage);
        var record = await _agent.OnlyRecordAsync();
        Assert.Equal(UsageStatus.Completed, record.Status);
        Assert.True(record.Stream);
        Assert.Equal(usage!.InputTokenCount, record.NativeInputTokens);
        Assert.Equal(usage.OutputTokenCount, record.NativeOutputTokens);
        Assert.Equal(Count(text.ToString()), record.ReferenceOutputTokens);
        Assert.Equal(Count("user") + Count("Stream me something about 数据 and 🚀."), record.ReferenceInputTokens);
        Assert.NotNull(record.FirstTokenAt);
        Assert.True(record.FirstTokenAt <= record.EndedAt);
    }

    [Fact]
    public async Task A_stream_that_did_not_ask_for_usage_never_sees_the_usage_chunk_and_the_record_still_has_native_usage()
    {
        // The SDK always asks for stream usage; a client that does not is written by hand.
        using var response = await _agent.Http.SendAsync(_agent.OpenAIRequest("v1/chat/completions",
            """{"model":"emu-chat","stream":true,"max_tokens":24,"messages":[{"role":"user","content":"No usage for me, thanks."}]}"""));
        Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
        var body = await response.Content.ReadAsStringAsync();
        var chunks = body.Split("\n\n", StringSplitOptions.RemoveEmptyEntries)
            .Select(e => e["data: ".Length..])
            .Where(d => d != "[DONE]")
            .Select(d => System.Text.Json.JsonDocument.Parse(d).RootElement)
            .ToList();
        Assert.NotEmpty(chunks);
        Assert.EndsWith("data: [DONE]\n\n", body, StringComparison.Ordinal);
        Assert.DoesNotContain(chunks, c => c.GetProperty("choices").GetArrayLength() == 0);
        Assert.DoesNotContain(chunks, c => c.TryGetProperty("usage", out var u) && u.ValueKind != System.Text.Json.JsonValueKind.Null);

        var text = string.Concat(chunks.Select(c => c.GetProperty("choices")[0].GetProperty("delta").TryGetProperty("content", out var t) ? t.GetString() : ""));
        var record = await _agent.RecordForAsync(response);
        Assert.Equal(UsageStatus.Completed, record.Status);
        Assert.True(record.NativeReported);
        Assert.Equal("native", record.Quality);
        Assert.NotNull(record.NativeInputTokens);
        Assert.Equal(24, record.NativeOutputTokens);
        Assert.Equal(Count(text), record.ReferenceOutputTokens);
        Assert.Equal(Count("user") + Count("No usage for me, thanks."), record.ReferenceInputTokens);
    }

    [Fact]
    public async Task Reasoning_model_usage_is_normalised_with_reasoning_inside_output()
    {
        var chat = Client().GetChatClient("emu-reasoning-1");
        var result = await chat.CompleteChatAsync([new UserChatMessage("Think hard.")]);
        var usage = result.Value.Usage;
        Assert.True(usage.OutputTokenDetails.ReasoningTokenCount > 0, "the emulator reports reasoning for *reasoning* models");

        var record = await _agent.RecordAsync(result.GetRawResponse().Headers.TryGetValue("x-meteragent-usage-id", out var id) ? id! : "");
        Assert.Equal(usage.OutputTokenDetails.ReasoningTokenCount, record.NativeReasoningTokens);
        Assert.Equal(usage.OutputTokenCount, record.NativeOutputTokens);
        Assert.True(record.NativeOutputTokens >= record.NativeReasoningTokens);
    }

    [Fact]
    public async Task Embeddings_are_metered_on_input_only()
    {
        var embeddings = Client().GetEmbeddingClient("emu-embed");
        var result = await embeddings.GenerateEmbeddingsAsync(["first text", "second, longer text with 数据"]);
        Assert.Equal(2, result.Value.Count);

        var record = await _agent.RecordAsync(result.GetRawResponse().Headers.TryGetValue("x-meteragent-usage-id", out var id) ? id! : "");
        Assert.Equal(UsageStatus.Completed, record.Status);
        Assert.Equal("openai.embeddings", record.Surface);
        Assert.Equal(result.Value.Usage.InputTokenCount, record.NativeInputTokens);
        Assert.Equal(Count("first text") + Count("second, longer text with 数据"), record.ReferenceInputTokens);
        Assert.Equal(0, record.ReferenceOutputTokens);
    }

#pragma warning disable OPENAI001 // The Responses client is marked experimental in the SDK.
    [Fact]
    public async Task Responses_api_streams_and_the_record_has_response_completed_usage()
    {
        var responses = Client().GetResponsesClient();
        var text = new System.Text.StringBuilder();
        ResponseTokenUsage? usage = null;
        var updates = await responses.CreateResponseStreamingAsync(new CreateResponseOptions("emu-resp", [ResponseItem.CreateUserMessageItem("Describe a forward curve.")]) { StreamingEnabled = true });
        await foreach (var update in updates)
        {
            if (update is StreamingResponseOutputTextDeltaUpdate delta)
            {
                text.Append(delta.Delta);
            }
            else if (update is StreamingResponseCompletedUpdate completed)
            {
                usage = completed.Response.Usage;
            }
        }

        Assert.NotNull(usage);
        var record = await _agent.OnlyRecordAsync();
        Assert.Equal(UsageStatus.Completed, record.Status);
        Assert.Equal("openai.responses", record.Surface);
        Assert.True(record.Stream);
        Assert.Equal(usage!.InputTokenCount, record.NativeInputTokens);
        Assert.Equal(usage.OutputTokenCount, record.NativeOutputTokens);
        Assert.Equal(Count(text.ToString()), record.ReferenceOutputTokens);
        Assert.Equal(Count("user") + Count("Describe a forward curve."), record.ReferenceInputTokens);
    }

    [Fact]
    public async Task Responses_api_non_streaming()
    {
        var responses = Client().GetResponsesClient();
        var result = await responses.CreateResponseAsync(new CreateResponseOptions("emu-resp", [ResponseItem.CreateUserMessageItem("Hello")]));
        var record = await _agent.RecordAsync(result.GetRawResponse().Headers.TryGetValue("x-meteragent-usage-id", out var id) ? id! : "");
        var usage = result.Value.Usage;
        Assert.Equal(UsageStatus.Completed, record.Status);
        Assert.Equal(200, record.HttpStatus);
        Assert.Equal(_agent.AccountId, record.AccountId);
        Assert.Equal("openai.responses", record.Surface);
        Assert.Equal("emu-resp", record.RequestedModel);
        Assert.Equal(result.Value.Model, record.ServedModel);
        Assert.False(record.Stream);
        Assert.True(record.NativeReported);
        Assert.Equal("native", record.Quality);
        Assert.Equal(usage.InputTokenCount, record.NativeInputTokens);
        Assert.Equal(usage.InputTokenDetails?.CachedTokenCount ?? 0, record.NativeCachedInputTokens);
        Assert.Equal(0, record.NativeCacheWriteTokens);
        Assert.Equal(usage.OutputTokenCount, record.NativeOutputTokens);
        Assert.Equal(usage.OutputTokenDetails?.ReasoningTokenCount ?? 0, record.NativeReasoningTokens);
        Assert.Equal(Count(result.Value.GetOutputText()), record.ReferenceOutputTokens);
        Assert.Equal(Count("user") + Count("Hello"), record.ReferenceInputTokens);
        Assert.False(record.NonTextInput);
        Assert.NotNull(record.EndedAt);
        Assert.True(record.StartedAt <= record.EndedAt);
        Assert.StartsWith("o200k_base:sha256:", record.ReferenceTokenizer);
    }
#pragma warning restore OPENAI001

    [Fact]
    public async Task A_bad_key_raises_the_sdks_own_authentication_error()
    {
        var client = new OpenAIClient(new ApiKeyCredential("ma-not-a-real-key"), new OpenAIClientOptions { Endpoint = new Uri(_agent.ProxyUrl + "v1") });
        var error = await Assert.ThrowsAsync<ClientResultException>(() => client.GetChatClient("emu-chat").CompleteChatAsync([new UserChatMessage("hi")]));
        Assert.Equal(401, error.Status);
        Assert.Contains("invalid_api_key", error.Message, StringComparison.Ordinal);
    }
}
