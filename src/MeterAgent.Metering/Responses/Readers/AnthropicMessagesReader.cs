using System.Text.Json;
using MeterAgent.Metering.Canonical;
using MeterAgent.Metering.Usage;

namespace MeterAgent.Metering.Responses.Readers;

/// <summary>
/// Anthropic Messages: content blocks, and usage split over message_start (input side, first output count) and
/// message_delta (cumulative counts): the latest value of each field wins. message_start's output_tokens is a
/// placeholder (1), so stream usage is final only once a message_delta has carried usage.
/// </summary>
internal sealed class AnthropicMessagesReader(TextBudget budget) : ResponseReader(budget)
{
    private readonly IndexedParts<Block> _blocks = new();
    private long? _input;
    private long? _output;
    private long? _cacheCreation;
    private long? _cacheRead;

    public override bool OnEvent(ReadOnlySpan<byte> eventName, ReadOnlySpan<byte> data)
    {
        // The members are noted first and read after: "type" need not come before "delta" or "index".
        if (!ReadRoot(data, out var root) || !root.Type.IsString)
        {
            return false;
        }

        var type = root.Type;
        if (type.StringEquals(data, "content_block_delta"u8))
        {
            if (root.Delta.IsObject)
            {
                var block = _blocks.GetOrAdd(root.Index.Index(data), Budget, static budget => new Block(budget));
                var delta = Members.Of(data, root.Delta);
                if (delta.Type.StringEquals(data, "text_delta"u8))
                {
                    SeeText(block.Text.Append(data, delta.Text));
                }
                else if (delta.Type.StringEquals(data, "input_json_delta"u8))
                {
                    SeeText(block.Input.Append(data, delta.PartialJson));
                }
            }
        }
        else if (type.StringEquals(data, "content_block_start"u8))
        {
            if (root.ContentBlock.IsObject)
            {
                var block = _blocks.GetOrAdd(root.Index.Index(data), Budget, static budget => new Block(budget));
                var content = Members.Of(data, root.ContentBlock);
                if (content.Type.StringEquals(data, "text"u8))
                {
                    block.Text.Set(data, content.Text);
                    SeeText(content.Text.IsNonEmptyString);
                }
                else if (content.Type.StringEquals(data, "tool_use"u8))
                {
                    // The start carries input {} as a placeholder; the input itself arrives as input_json_delta.
                    block.Name.Set(data, content.Name);
                    SeeText(content.Name.IsNonEmptyString);
                }
            }
        }
        else if (type.StringEquals(data, "message_start"u8))
        {
            if (root.Message.IsObject)
            {
                var message = Members.Of(data, root.Message);
                SeeModel(data, message.Model);
                ReadUsage(data, message.Usage, final: false);
            }
        }
        else if (type.StringEquals(data, "message_delta"u8))
        {
            ReadUsage(data, root.Usage, final: true);
        }
        else if (type.StringEquals(data, "message_stop"u8))
        {
            Complete = true;
        }
        else if (type.StringEquals(data, "error"u8))
        {
            UpstreamError ??= root.Error.IsObject ? ErrorName(data, root.Error) : "error";
        }

        return false;
    }

    public override void OnBody(ReadOnlySpan<byte> body)
    {
        var isObject = ReadRoot(body, out var root);
        if (root.Type.StringEquals(body, "error"u8))
        {
            UpstreamError = root.Error.IsObject ? ErrorName(body, root.Error) : "error";
            return;
        }

        SeeModel(body, root.Model);
        ReadUsage(body, root.Usage, final: true);
        if (isObject && root.Content.IsArray)
        {
            var index = 0;
            var cursor = JsonCursor.Open(body, root.Content);
            while (cursor.NextElement())
            {
                var block = _blocks.GetOrAdd(index++, Budget, static budget => new Block(budget));
                var entry = cursor.Note();
                if (!entry.IsObject)
                {
                    continue;
                }

                var members = Members.Of(body, entry);
                if (members.Type.StringEquals(body, "text"u8))
                {
                    block.Text.Set(body, members.Text);
                }
                else if (members.Type.StringEquals(body, "tool_use"u8))
                {
                    block.Name.Set(body, members.Name);
                    if (members.Input.Kind != JsonTokenType.None)
                    {
                        block.Input.SetRaw(body, members.Input);
                    }
                }
            }
        }

        Complete = true;
        SawFirstToken = true;
    }

    public override void CollectOutput(ref SegmentList segments)
    {
        for (var i = 0; i < _blocks.Count; i++)
        {
            segments.AddAccumulated(_blocks[i].Text);
            segments.AddAccumulated(_blocks[i].Name);
            segments.AddAccumulated(_blocks[i].Input);
        }
    }

    public override void Dispose() => _blocks.Dispose();

    /// <summary>Notes the root members and validates the whole document. False when the root is not an object.</summary>
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
            _ = cursor.Take("type"u8, ref root.Type) || cursor.Take("index"u8, ref root.Index)
                || cursor.Take("delta"u8, ref root.Delta) || cursor.Take("content_block"u8, ref root.ContentBlock)
                || cursor.Take("message"u8, ref root.Message) || cursor.Take("usage"u8, ref root.Usage)
                || cursor.Take("error"u8, ref root.Error) || cursor.Take("model"u8, ref root.Model)
                || cursor.Take("content"u8, ref root.Content) || cursor.Skip();
        }

        cursor.End();
        return true;
    }

    /// <summary>
    /// Takes the usage object's counts; <c>final</c> says it is the message's last word (message_delta, or a whole
    /// body), and a later placeholder never undoes that.
    /// </summary>
    private void ReadUsage(ReadOnlySpan<byte> data, JsonRef usage, bool final)
    {
        if (!usage.IsObject)
        {
            return;
        }

        JsonRef input = default, output = default, cacheCreation = default, cacheRead = default;
        var cursor = JsonCursor.Open(data, usage);
        while (cursor.NextMember())
        {
            _ = cursor.Take("input_tokens"u8, ref input) || cursor.Take("output_tokens"u8, ref output)
                || cursor.Take("cache_creation_input_tokens"u8, ref cacheCreation)
                || cursor.Take("cache_read_input_tokens"u8, ref cacheRead) || cursor.Skip();
        }

        _input = UsageCountOf(data, input) ?? _input;
        _output = UsageCountOf(data, output) ?? _output;
        _cacheCreation = UsageCountOf(data, cacheCreation) ?? _cacheCreation;
        _cacheRead = UsageCountOf(data, cacheRead) ?? _cacheRead;
        Usage = UsageNormalizer.FromAnthropic(_input ?? 0, _cacheCreation ?? 0, _cacheRead ?? 0, _output ?? 0);
        UsageFinal |= final;
    }

    private struct Root
    {
        public JsonRef Type;
        public JsonRef Index;
        public JsonRef Delta;
        public JsonRef ContentBlock;
        public JsonRef Message;
        public JsonRef Usage;
        public JsonRef Error;
        public JsonRef Model;
        public JsonRef Content;
    }

    /// <summary>The members read from a delta, a content block or a message: each kind has only some of them.</summary>
    private struct Members
    {
        public JsonRef Type;
        public JsonRef Text;
        public JsonRef PartialJson;
        public JsonRef Name;
        public JsonRef Input;
        public JsonRef Model;
        public JsonRef Usage;

        public static Members Of(ReadOnlySpan<byte> data, JsonRef owner)
        {
            var members = default(Members);
            var cursor = JsonCursor.Open(data, owner);
            while (cursor.NextMember())
            {
                _ = cursor.Take("type"u8, ref members.Type) || cursor.Take("text"u8, ref members.Text)
                    || cursor.Take("partial_json"u8, ref members.PartialJson) || cursor.Take("name"u8, ref members.Name)
                    || cursor.Take("input"u8, ref members.Input) || cursor.Take("model"u8, ref members.Model)
                    || cursor.Take("usage"u8, ref members.Usage) || cursor.Skip();
            }

            return members;
        }
    }

    private sealed class Block(TextBudget budget) : IDisposable
    {
        public TextAccumulator Text { get; } = new(budget);

        public TextAccumulator Name { get; } = new(budget);

        public TextAccumulator Input { get; } = new(budget);

        public void Dispose()
        {
            Text.Dispose();
            Name.Dispose();
            Input.Dispose();
        }
    }
}
