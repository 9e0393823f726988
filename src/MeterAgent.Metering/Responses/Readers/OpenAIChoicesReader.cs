using System.Text.Json;
using MeterAgent.Metering.Canonical;

namespace MeterAgent.Metering.Responses.Readers;

/// <summary>OpenAI chat completions, completions and embeddings: choices, and usage in the body or in the final stream chunk.</summary>
internal sealed class OpenAIChoicesReader(TextBudget budget, bool completions) : ResponseReader(budget)
{
    private readonly IndexedParts<Choice> _choices = new();

    // The current event's choices, noted while it is walked and applied once it proved whole. Nearly every event has
    // one: it is kept inline, and a second and later ones in a list made the first time an event has them.
    private PendingChoice _firstPending;
    private List<PendingChoice>? _morePending;
    private int _pendingCount;

    public override bool OnSentinel(ReadOnlySpan<byte> data)
    {
        if (!data.SequenceEqual("[DONE]"u8))
        {
            return false;
        }

        Complete = true;

        // The stream ended properly: whatever usage it reported last is the final one (providers that repeat usage on every chunk included).
        UsageFinal = Usage is not null;
        return true;
    }

    public override bool OnEvent(ReadOnlySpan<byte> eventName, ReadOnlySpan<byte> data)
    {
        if (!ReadRoot(data, append: true, out var root))
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
        var usageOnly = root.ChoicesIsArray && root.ChoiceCount == 0 && hasUsage;
        if (hasUsage)
        {
            Usage = OpenAIUsage(data, root.Usage, responsesApi: false);

            // OpenAI's include_usage chunk (no choices) is the last one; usage riding on content chunks is running, until [DONE].
            UsageFinal = usageOnly;
        }

        ApplyChoices(data, append: true);
        return usageOnly;
    }

    public override void OnBody(ReadOnlySpan<byte> body)
    {
        if (!ReadRoot(body, append: false, out var root))
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
            Usage = OpenAIUsage(body, root.Usage, responsesApi: false);
            UsageFinal = true;
        }

        ApplyChoices(body, append: false);
        Complete = true;
        SawFirstToken = true;
    }

    public override void CollectOutput(ref SegmentList segments)
    {
        for (var i = 0; i < _choices.Count; i++)
        {
            var choice = _choices[i];
            segments.AddAccumulated(choice.Content);
            segments.AddAccumulated(choice.RefusalOrNull);
            for (var t = 0; t < choice.ToolCallCount; t++)
            {
                segments.AddAccumulated(choice.ToolCalls[t].Name);
                segments.AddAccumulated(choice.ToolCalls[t].Arguments);
            }
        }
    }

    public override void Dispose() => _choices.Dispose();

    /// <summary>
    /// Notes the root members and each choice's, and validates the whole document, in one pass: choices are the bulk of
    /// every chunk, so they are walked in place rather than skipped and walked again. Nothing is applied here.
    /// False when the root is not an object (nothing to read).
    /// </summary>
    private bool ReadRoot(ReadOnlySpan<byte> data, bool append, out Root root)
    {
        root = default;
        ClearPending();
        var cursor = JsonCursor.Root(data, out var isObject);
        if (!isObject)
        {
            return false;
        }

        while (cursor.NextMember())
        {
            if (cursor.NameIs("choices"u8))
            {
                ReadChoices(ref cursor, append, ref root);
                continue;
            }

            _ = cursor.Take("model"u8, ref root.Model) || cursor.Take("usage"u8, ref root.Usage)
                || cursor.Take("error"u8, ref root.Error) || cursor.Skip();
        }

        cursor.End();
        return true;
    }

    /// <summary>On the choices member: notes each choice's index, text and message members (a later duplicate wins throughout).</summary>
    private void ReadChoices(ref JsonCursor cursor, bool append, ref Root root)
    {
        ClearPending();
        root.ChoiceCount = 0;
        root.ChoicesIsArray = cursor.ReadValue() == JsonTokenType.StartArray;
        if (!root.ChoicesIsArray)
        {
            cursor.Skip();
            return;
        }

        var messageName = append ? "delta"u8 : "message"u8;
        while (cursor.NextElement())
        {
            root.ChoiceCount++;
            if (cursor.TokenType != JsonTokenType.StartObject)
            {
                // Not a choice: nothing in it to meter.
                cursor.Skip();
                continue;
            }

            var choice = default(PendingChoice);
            while (cursor.NextMember())
            {
                if (!completions && cursor.NameIs(messageName))
                {
                    choice.Content = choice.Refusal = choice.ToolCalls = default;
                    choice.HasMessage = cursor.ReadValue() == JsonTokenType.StartObject;
                    if (!choice.HasMessage)
                    {
                        cursor.Skip();
                        continue;
                    }

                    while (cursor.NextMember())
                    {
                        _ = cursor.Take("content"u8, ref choice.Content) || cursor.Take("refusal"u8, ref choice.Refusal)
                            || cursor.Take("tool_calls"u8, ref choice.ToolCalls) || cursor.Skip();
                    }

                    continue;
                }

                _ = cursor.Take("index"u8, ref choice.Index) || (completions && cursor.Take("text"u8, ref choice.Text)) || cursor.Skip();
            }

            AddPending(choice);
        }
    }

    /// <summary>Stream deltas (appended) or whole messages (set), once the document is known to be whole.</summary>
    private void ApplyChoices(ReadOnlySpan<byte> data, bool append)
    {
        for (var i = 0; i < _pendingCount; i++)
        {
            var choice = i == 0 ? _firstPending : _morePending![i - 1];
            var state = _choices.GetOrAdd(choice.Index.Index(data), Budget, static budget => new Choice(budget));
            if (completions)
            {
                if (append)
                {
                    SeeText(state.Content.Append(data, choice.Text));
                }
                else
                {
                    state.Content.Set(data, choice.Text);
                }

                continue;
            }

            if (!choice.HasMessage)
            {
                continue;
            }

            if (append)
            {
                SeeText(state.Content.Append(data, choice.Content));
                if (choice.Refusal.IsNonEmptyString)
                {
                    SeeText(state.Refusal.Append(data, choice.Refusal));
                }
            }
            else
            {
                state.Content.Set(data, choice.Content);
                if (choice.Refusal.IsNonEmptyString || state.HasRefusal)
                {
                    state.Refusal.Set(data, choice.Refusal);
                }
            }

            if (choice.ToolCalls.IsArray)
            {
                ReadToolCalls(data, choice.ToolCalls, state, append);
            }
        }

        ClearPending();
    }

    private void ClearPending()
    {
        _pendingCount = 0;
        _morePending?.Clear();
    }

    private void AddPending(in PendingChoice choice)
    {
        if (_pendingCount++ == 0)
        {
            _firstPending = choice;
        }
        else
        {
            (_morePending ??= new(2)).Add(choice);
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

            var tool = state.ToolCalls.GetOrAdd(append ? index.Index(data) : ordinal, Budget, static budget => new ToolCall(budget));
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
        public bool ChoicesIsArray;
        public int ChoiceCount;
        public JsonRef Model;
        public JsonRef Usage;
        public JsonRef Error;
    }

    private struct PendingChoice
    {
        public JsonRef Index;
        public JsonRef Text;
        public bool HasMessage;
        public JsonRef Content;
        public JsonRef Refusal;
        public JsonRef ToolCalls;
    }

    /// <summary>One choice's text. A refusal and tool calls are rare: their holders are made when the first one comes.</summary>
    private sealed class Choice(TextBudget budget) : IDisposable
    {
        private TextAccumulator? _refusal;
        private IndexedParts<ToolCall>? _toolCalls;

        public TextAccumulator Content { get; } = new(budget);

        public TextAccumulator Refusal => _refusal ??= new(budget);

        public bool HasRefusal => _refusal is not null;

        public TextAccumulator? RefusalOrNull => _refusal;

        public IndexedParts<ToolCall> ToolCalls => _toolCalls ??= new();

        public int ToolCallCount => _toolCalls?.Count ?? 0;

        public void Dispose()
        {
            Content.Dispose();
            _refusal?.Dispose();
            _toolCalls?.Dispose();
        }
    }

    private sealed class ToolCall(TextBudget budget) : IDisposable
    {
        public TextAccumulator Name { get; } = new(budget);

        public TextAccumulator Arguments { get; } = new(budget);

        public void Dispose()
        {
            Name.Dispose();
            Arguments.Dispose();
        }
    }
}
