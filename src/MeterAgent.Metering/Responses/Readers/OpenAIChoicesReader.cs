using System.Text.Json;
using MeterAgent.Metering.Canonical;
using MeterAgent.Metering.Usage;

namespace MeterAgent.Metering.Responses.Readers;

/// <summary>OpenAI chat completions, completions and embeddings: choices, and usage in the body or in the final stream chunk.</summary>
internal sealed class OpenAIChoicesReader(bool completions) : ResponseReader
{
    private readonly IndexedParts<Choice> _choices = new();

    public override bool OnSentinel(ReadOnlySpan<byte> data)
    {
        if (!data.SequenceEqual("[DONE]"u8))
        {
            return false;
        }

        Complete = true;
        return true;
    }

    public override bool OnEvent(ReadOnlySpan<byte> eventName, ReadOnlySpan<byte> data)
    {
        if (!ReadRoot(data, out var root))
        {
            return false;
        }

        if (root.Error.IsObject)
        {
            UpstreamError ??= ErrorName(data, root.Error);
            return false;
        }

        SeeModel(data, root.Model);
        var hasUsage = root.Usage.IsObject;
        if (hasUsage)
        {
            Usage = UsageNormalizer.FromOpenAIChat(data, root.Usage);
        }

        return root.Choices.IsArray && ReadChoices(data, root.Choices, append: true) == 0 && hasUsage;
    }

    public override void OnBody(ReadOnlySpan<byte> body)
    {
        if (!ReadRoot(body, out var root))
        {
            Complete = true;
            SawFirstToken = true;
            return;
        }

        if (root.Error.IsObject)
        {
            UpstreamError = ErrorName(body, root.Error);
            return;
        }

        SeeModel(body, root.Model);
        if (root.Usage.IsObject)
        {
            Usage = UsageNormalizer.FromOpenAIChat(body, root.Usage);
        }

        if (root.Choices.IsArray)
        {
            ReadChoices(body, root.Choices, append: false);
        }

        Complete = true;
        SawFirstToken = true;
    }

    public override void CollectOutput(SegmentList segments)
    {
        for (var i = 0; i < _choices.Count; i++)
        {
            var choice = _choices[i];
            segments.Add(choice.Content.ToString());
            segments.Add(choice.Refusal.ToString());
            for (var t = 0; t < choice.ToolCalls.Count; t++)
            {
                segments.Add(choice.ToolCalls[t].Name.ToString());
                segments.Add(choice.ToolCalls[t].Arguments.ToString());
            }
        }
    }

    public override void Dispose() => _choices.Dispose();

    /// <summary>Notes the root members and validates the whole document. False when the root is not an object (nothing to read).</summary>
    private static bool ReadRoot(ReadOnlySpan<byte> data, out Root root)
    {
        root = default;
        var cursor = JsonCursor.Root(data, out var isObject);
        if (!isObject)
        {
            return false;
        }

        while (cursor.NextMember())
        {
            _ = cursor.Take("choices"u8, ref root.Choices) || cursor.Take("model"u8, ref root.Model)
                || cursor.Take("usage"u8, ref root.Usage) || cursor.Take("error"u8, ref root.Error)
                || cursor.Skip();
        }

        cursor.End();
        return true;
    }

    /// <summary>Stream deltas (appended) or whole messages (set). Returns the number of choices.</summary>
    private int ReadChoices(ReadOnlySpan<byte> data, JsonRef choices, bool append)
    {
        var count = 0;
        var cursor = JsonCursor.Open(data, choices);
        while (cursor.NextElement())
        {
            count++;
            if (cursor.TokenType != JsonTokenType.StartObject)
            {
                // Not a choice: nothing in it to meter.
                cursor.Skip();
                continue;
            }

            JsonRef index = default, text = default, message = default;
            var messageName = append ? "delta"u8 : "message"u8;
            while (cursor.NextMember())
            {
                _ = cursor.Take("index"u8, ref index) || cursor.Take(messageName, ref message)
                    || (completions && cursor.Take("text"u8, ref text)) || cursor.Skip();
            }

            var state = _choices.GetOrAdd(index.Index(data), static () => new Choice());
            if (completions)
            {
                if (append)
                {
                    SeeText(state.Content.Append(data, text));
                }
                else
                {
                    state.Content.Set(data, text);
                }
            }
            else if (message.IsObject)
            {
                ReadMessage(data, message, state, append);
            }
        }

        return count;
    }

    /// <summary>A stream delta (appended) or a whole message (set): content, refusal and tool calls.</summary>
    private void ReadMessage(ReadOnlySpan<byte> data, JsonRef message, Choice state, bool append)
    {
        JsonRef content = default, refusal = default, toolCalls = default;
        var cursor = JsonCursor.Open(data, message);
        while (cursor.NextMember())
        {
            _ = cursor.Take("content"u8, ref content) || cursor.Take("refusal"u8, ref refusal)
                || cursor.Take("tool_calls"u8, ref toolCalls) || cursor.Skip();
        }

        if (append)
        {
            SeeText(state.Content.Append(data, content));
            SeeText(state.Refusal.Append(data, refusal));
        }
        else
        {
            state.Content.Set(data, content);
            state.Refusal.Set(data, refusal);
        }

        if (toolCalls.IsArray)
        {
            ReadToolCalls(data, toolCalls, state, append);
        }
    }

    private void ReadToolCalls(ReadOnlySpan<byte> data, JsonRef toolCalls, Choice state, bool append)
    {
        var position = 0;
        var cursor = JsonCursor.Open(data, toolCalls);
        while (cursor.NextElement())
        {
            // Stream deltas carry an index; a whole message lists its calls in order.
            var ordinal = position++;
            if (cursor.TokenType != JsonTokenType.StartObject)
            {
                cursor.Skip();
                continue;
            }

            JsonRef index = default, function = default;
            while (cursor.NextMember())
            {
                _ = (append && cursor.Take("index"u8, ref index)) || cursor.Take("function"u8, ref function) || cursor.Skip();
            }

            var tool = state.ToolCalls.GetOrAdd(append ? index.Index(data) : ordinal, static () => new ToolCall());
            if (!function.IsObject)
            {
                continue;
            }

            JsonRef name = default, arguments = default;
            var inner = JsonCursor.Open(data, function);
            while (inner.NextMember())
            {
                _ = inner.Take("name"u8, ref name) || inner.Take("arguments"u8, ref arguments) || inner.Skip();
            }

            if (append)
            {
                SeeText(tool.Name.Append(data, name));
                SeeText(tool.Arguments.Append(data, arguments));
            }
            else
            {
                tool.Name.Set(data, name);
                tool.Arguments.Set(data, arguments);
            }
        }
    }

    private struct Root
    {
        public JsonRef Choices;
        public JsonRef Model;
        public JsonRef Usage;
        public JsonRef Error;
    }

    private sealed class Choice : IDisposable
    {
        public TextAccumulator Content { get; } = new();

        public TextAccumulator Refusal { get; } = new();

        public IndexedParts<ToolCall> ToolCalls { get; } = new();

        public void Dispose()
        {
            Content.Dispose();
            Refusal.Dispose();
            ToolCalls.Dispose();
        }
    }

    private sealed class ToolCall : IDisposable
    {
        public TextAccumulator Name { get; } = new();

        public TextAccumulator Arguments { get; } = new();

        public void Dispose()
        {
            Name.Dispose();
            Arguments.Dispose();
        }
    }
}
