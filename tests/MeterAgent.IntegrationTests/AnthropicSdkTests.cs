using System.Text;
using Anthropic;
using Anthropic.Exceptions;
using Anthropic.Models.Messages;
using MeterAgent.Ledger.Usage;
using MeterAgent.Metering.Tokenization;

namespace MeterAgent.IntegrationTests;

/// <summary>The official Anthropic .NET SDK, pointed at MeterAgent with only the base URL and key changed.</summary>
public sealed class AnthropicSdkTests : IAsyncLifetime
{
    private TestAgent _agent = null!;

    public async Task InitializeAsync() => _agent = await TestAgent.StartAsync();

    public async Task DisposeAsync() => await _agent.DisposeAsync();

    private AnthropicClient Client(string? key = null) => new()
    {
        ApiKey = key ?? _agent.ClientKey,
        BaseUrl = _agent.ProxyUrl.TrimEnd('/'),
        ResponseValidation = true,
        MaxRetries = 0,
    };

    private static int Count(string text) => ReferenceTokenizer.Instance.CountTokens(text);

    [Fact]
    public async Task Message_with_cache_reads_is_normalised_so_input_includes_cached()
    {
        // Long enough for the emulator to report cache reads, which Anthropic leaves out of input_tokens.
        var prompt = string.Join(' ', Enumerable.Repeat("hedge", 200));
        var message = await Client().Messages.Create(new MessageCreateParams
        {
            Model = "emu-claude",
            MaxTokens = 50,
            System = "Answer briefly.",
            Messages = [new UserMessageParam(prompt)],
        });

        Assert.True(message.Usage.CacheReadInputTokens > 0);
        Assert.True(message.Content.Single().TryPickText(out var text));

        var record = await _agent.OnlyRecordAsync();
        Assert.Equal(UsageStatus.Completed, record.Status);
        Assert.Equal("anthropic.messages", record.Surface);
        Assert.Equal(message.Model.Raw(), record.ServedModel);
        Assert.Equal(message.Usage.InputTokens + message.Usage.CacheReadInputTokens + message.Usage.CacheCreationInputTokens, record.NativeInputTokens);
        Assert.Equal(message.Usage.CacheReadInputTokens, record.NativeCachedInputTokens);
        Assert.Equal(message.Usage.CacheCreationInputTokens ?? 0, record.NativeCacheWriteTokens);
        Assert.Equal(message.Usage.OutputTokens, record.NativeOutputTokens);
        Assert.Equal(Count(text.Text), record.ReferenceOutputTokens);
        Assert.Equal(Count("Answer briefly.") + Count("user") + Count(prompt), record.ReferenceInputTokens);
    }

    [Fact]
    public async Task Streamed_message_reaches_the_client_whole_and_the_record_has_cumulative_usage()
    {
        var text = new StringBuilder();
        long? input = null;
        long? output = null;
        await foreach (var streamEvent in Client().Messages.CreateStreaming(new MessageCreateParams
        {
            Model = "emu-claude",
            MaxTokens = 48,
            Messages = [new UserMessageParam("Stream with café and 🚀 please")],
        }))
        {
            if (streamEvent.TryPickStart(out var start))
            {
                input = start.Message.Usage.InputTokens;
            }
            else if (streamEvent.TryPickContentBlockDelta(out var delta) && delta.Delta.TryPickText(out var textDelta))
            {
                text.Append(textDelta.Text);
            }
            else if (streamEvent.TryPickDelta(out var messageDelta))
            {
                output = messageDelta.Usage.OutputTokens;
            }
        }

        var record = await _agent.OnlyRecordAsync();
        Assert.Equal(UsageStatus.Completed, record.Status);
        Assert.True(record.Stream);
        Assert.Equal(input, record.NativeInputTokens);
        Assert.Equal(output, record.NativeOutputTokens);
        Assert.Equal(Count(text.ToString()), record.ReferenceOutputTokens);
        Assert.NotNull(record.FirstTokenAt);
    }

    [Fact]
    public async Task A_bad_key_raises_the_sdks_authentication_error()
    {
        var error = await Assert.ThrowsAnyAsync<AnthropicApiException>(() => Client("ma-wrong").Messages.Create(new MessageCreateParams
        {
            Model = "emu-claude",
            MaxTokens = 5,
            Messages = [new UserMessageParam("hi")],
        }));
        Assert.Contains("authentication_error", error.Message, StringComparison.Ordinal);
    }
}
