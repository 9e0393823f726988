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

    public override bool OnEvent(ReadOnlySpan<byte> eventName, JsonElement data)
    {
        if (Json.TryGet(data, "error"u8, JsonValueKind.Object, out var error))
        {
            UpstreamError ??= ErrorName(error);
            return false;
        }

        SeeModel(data);
        var hasUsage = Json.TryGet(data, "usage"u8, JsonValueKind.Object, out var usage);
        if (hasUsage)
        {
            Usage = UsageNormalizer.FromOpenAIChat(usage);
        }

        if (!Json.TryGet(data, "choices"u8, JsonValueKind.Array, out var choices))
        {
            return false;
        }

        foreach (var choice in choices.EnumerateArray())
        {
            var state = _choices.GetOrAdd(Json.Index(choice, "index"u8), static () => new Choice());
            if (completions)
            {
                var text = Json.String(choice, "text"u8);
                state.Content.Append(text);
                SeeText(text);
            }
            else if (Json.TryGet(choice, "delta"u8, JsonValueKind.Object, out var delta))
            {
                Read(delta, state, append: true);
            }
        }

        return hasUsage && choices.GetArrayLength() == 0;
    }

    public override void OnBody(JsonElement root)
    {
        if (Json.TryGet(root, "error"u8, JsonValueKind.Object, out var error))
        {
            UpstreamError = ErrorName(error);
            return;
        }

        SeeModel(root);
        if (Json.TryGet(root, "usage"u8, JsonValueKind.Object, out var usage))
        {
            Usage = UsageNormalizer.FromOpenAIChat(usage);
        }

        if (Json.TryGet(root, "choices"u8, JsonValueKind.Array, out var choices))
        {
            foreach (var choice in choices.EnumerateArray())
            {
                var state = _choices.GetOrAdd(Json.Index(choice, "index"u8), static () => new Choice());
                if (completions)
                {
                    state.Content.Set(Json.String(choice, "text"u8));
                }
                else if (Json.TryGet(choice, "message"u8, JsonValueKind.Object, out var message))
                {
                    Read(message, state, append: false);
                }
            }
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

    /// <summary>A stream delta (appended) or a whole message (set): content, refusal and tool calls.</summary>
    private void Read(JsonElement message, Choice state, bool append)
    {
        var content = Json.String(message, "content"u8);
        var refusal = Json.String(message, "refusal"u8);
        if (append)
        {
            state.Content.Append(content);
            state.Refusal.Append(refusal);
            SeeText(content);
            SeeText(refusal);
        }
        else
        {
            state.Content.Set(content);
            state.Refusal.Set(refusal);
        }

        if (!Json.TryGet(message, "tool_calls"u8, JsonValueKind.Array, out var toolCalls))
        {
            return;
        }

        var position = 0;
        foreach (var call in toolCalls.EnumerateArray())
        {
            // Stream deltas carry an index; a whole message lists its calls in order.
            var index = append ? Json.Index(call, "index"u8) : position;
            position++;
            var tool = state.ToolCalls.GetOrAdd(index, static () => new ToolCall());
            if (!Json.TryGet(call, "function"u8, JsonValueKind.Object, out var function))
            {
                continue;
            }

            var name = Json.String(function, "name"u8);
            var arguments = Json.String(function, "arguments"u8);
            if (append)
            {
                tool.Name.Append(name);
                tool.Arguments.Append(arguments);
                SeeText(name);
                SeeText(arguments);
            }
            else
            {
                tool.Name.Set(name);
                tool.Arguments.Set(arguments);
            }
        }
    }

    private sealed class Choice
    {
        public TextAccumulator Content { get; } = new();

        public TextAccumulator Refusal { get; } = new();

        public IndexedParts<ToolCall> ToolCalls { get; } = new();
    }

    private sealed class ToolCall
    {
        public TextAccumulator Name { get; } = new();

        public TextAccumulator Arguments { get; } = new();
    }
}
