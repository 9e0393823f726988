using System.Text;
using Anthropic;
using Anthropic.Exceptions;
using Anthropic.Models.Messages;
using MeterAgent.Emulator.Text;

namespace MeterAgent.Emulator.Tests.Anthropic;

/// <summary>The official Anthropic .NET SDK, with response validation on, against the emulator.</summary>
public sealed class MessagesSdkTests
{
    private static AnthropicClient Client(RunningEmulator server, string key = "sk-ant-test") => new()
    {
        ApiKey = key,
        BaseUrl = server.BaseAddress.ToString().TrimEnd('/'),
        ResponseValidation = true,
        MaxRetries = 0,
    };

    private static MessageCreateParams Params(string prompt, long maxTokens = 1024) => new()
    {
        Model = "claude-emulator",
        MaxTokens = maxTokens,
        Messages = [new UserMessageParam(prompt)],
    };

    [Fact]
    public async Task Create_returns_a_valid_message_with_usage()
    {
        await using var server = await RunningEmulator.StartAsync();

        var message = await Client(server).Messages.Create(Params("Say hello"));

        message.Validate();
        Assert.True(message.Content.Single().TryPickText(out var text));
        Assert.Equal(64, NativeTokenizer.Count(text.Text));
        Assert.Equal("end_turn", message.StopReason?.Raw());
        Assert.Null(message.StopSequence);
        Assert.StartsWith("msg_", message.ID, StringComparison.Ordinal);
        Assert.Equal(3 + 3, message.Usage.InputTokens); // "Say hello" 3 + message overhead 3
        Assert.Equal(64, message.Usage.OutputTokens);
        Assert.Equal(0, message.Usage.CacheReadInputTokens);
        Assert.Equal(0, message.Usage.CacheCreationInputTokens);
    }

    [Fact]
    public async Task Max_tokens_stops_with_max_tokens()
    {
        await using var server = await RunningEmulator.StartAsync();

        var message = await Client(server).Messages.Create(Params("Count", maxTokens: 5));

        Assert.Equal("max_tokens", message.StopReason?.Raw());
        Assert.Equal(5, message.Usage.OutputTokens);
    }

    [Fact]
    public async Task Cache_reads_are_excluded_from_input_tokens_as_the_real_api_reports_them()
    {
        await using var server = await RunningEmulator.StartAsync();
        var prompt = string.Join(' ', Enumerable.Repeat("word", 200)); // 200 + 3 = 203 native prompt tokens

        var message = await Client(server).Messages.Create(Params(prompt));

        Assert.Equal(192, message.Usage.CacheReadInputTokens);
        Assert.Equal(203 - 192, message.Usage.InputTokens);
    }

    [Fact]
    public async Task Streaming_matches_the_whole_message_and_reports_cumulative_usage()
    {
        await using var server = await RunningEmulator.StartAsync(new EmulatorOptions { TokensPerEvent = 2 });
        var client = Client(server);
        var parameters = Params("Stream caf\u00e9 \U0001F680 please");

        var whole = await client.Messages.Create(parameters);
        var text = new StringBuilder();
        var kinds = new List<string>();
        long? startInput = null;
        long? finalOutput = null;
        string? stop = null;
        await foreach (var streamEvent in client.Messages.CreateStreaming(parameters))
        {
            streamEvent.Validate();
            if (streamEvent.TryPickStart(out var start))
            {
                kinds.Add("start");
                startInput = start.Message.Usage.InputTokens;
                Assert.Equal(1, start.Message.Usage.OutputTokens);
            }
            else if (streamEvent.TryPickContentBlockStart(out _))
            {
                kinds.Add("block_start");
            }
            else if (streamEvent.TryPickContentBlockDelta(out var delta))
            {
                kinds.Add("delta");
                Assert.True(delta.Delta.TryPickText(out var textDelta));
                text.Append(textDelta.Text);
            }
            else if (streamEvent.TryPickContentBlockStop(out _))
            {
                kinds.Add("block_stop");
            }
            else if (streamEvent.TryPickDelta(out var messageDelta))
            {
                kinds.Add("message_delta");
                finalOutput = messageDelta.Usage.OutputTokens;
                stop = messageDelta.Delta.StopReason?.Raw();
            }
            else if (streamEvent.TryPickStop(out _))
            {
                kinds.Add("stop");
            }
        }

        Assert.True(whole.Content.Single().TryPickText(out var wholeText));
        Assert.Equal(wholeText.Text, text.ToString());
        Assert.Equal(whole.Usage.InputTokens, startInput);
        Assert.Equal(whole.Usage.OutputTokens, finalOutput);
        Assert.Equal("end_turn", stop);
        string[] expected = ["start", "block_start", .. Enumerable.Repeat("delta", 32), "block_stop", "message_delta", "stop"];
        Assert.Equal(expected, kinds);
    }

    [Fact]
    public async Task Injected_overload_surfaces_as_an_sdk_exception()
    {
        await using var server = await RunningEmulator.StartAsync(new EmulatorOptions { Fault = "error:529" });

        var error = await Assert.ThrowsAnyAsync<AnthropicApiException>(() => Client(server).Messages.Create(Params("x")));

        Assert.Contains("529", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Api_key_is_checked_in_x_api_key()
    {
        await using var server = await RunningEmulator.StartAsync(new EmulatorOptions { RequiredApiKey = "sk-ant-right" });

        await Assert.ThrowsAnyAsync<AnthropicApiException>(() => Client(server, "sk-ant-wrong").Messages.Create(Params("x")));
        var message = await Client(server, "sk-ant-right").Messages.Create(Params("x"));

        Assert.Equal(64, message.Usage.OutputTokens);
        Assert.Equal(1, server.Stats.RequestsUnauthorized);
    }
}
