using MeterAgent.Metering.Canonical;

namespace MeterAgent.Metering.Responses.Readers;

/// <summary>OpenAI Responses API: output items (messages, function calls), usage on the response object or its terminal event.</summary>
internal sealed class OpenAIResponsesReader(TextBudget budget) : ResponseReader(budget)
{
    private readonly IndexedParts<OutputItem> _items = new();

    public override bool OnEvent(ReadOnlySpan<byte> eventName, ReadOnlySpan<byte> data)
    {
        if (!ReadRoot(data, out var root) || !root.Type.IsString)
        {
            return false;
        }

        var type = root.Type;
        if (type.StringEquals(data, "response.output_text.delta"u8) || type.StringEquals(data, "response.refusal.delta"u8))
        {
            var item = _items.GetOrAdd(root.OutputIndex.Index(data), Budget, static budget => new OutputItem(budget));
            var part = item.Parts.GetOrAdd(root.ContentIndex.Index(data), Budget, static budget => new TextAccumulator(budget));
            SeeText(part.Append(data, root.Delta));
        }
        else if (type.StringEquals(data, "response.function_call_arguments.delta"u8))
        {
            var item = _items.GetOrAdd(root.OutputIndex.Index(data), Budget, static budget => new OutputItem(budget));
            SeeText(item.Arguments.Append(data, root.Delta));
        }
        else if (type.StringEquals(data, "response.output_item.added"u8) || type.StringEquals(data, "response.output_item.done"u8))
        {
            if (root.Item.IsObject)
            {
                var item = _items.GetOrAdd(root.OutputIndex.Index(data), Budget, static budget => new OutputItem(budget));
                var members = Members.Of(data, root.Item);
                if (members.Name.IsNonEmptyString)
                {
                    // The name arrives whole with the item; it is output the client sees, like a first delta.
                    item.Name.Set(data, members.Name);
                    SawFirstToken = true;
                }

                if (type.StringEquals(data, "response.output_item.done"u8))
                {
                    ReadItem(data, members, item);
                }
            }
        }
        else if (type.StringEquals(data, "response.completed"u8) || type.StringEquals(data, "response.incomplete"u8)
            || type.StringEquals(data, "response.failed"u8))
        {
            if (root.Response.IsObject)
            {
                ReadResponse(data, Members.Of(data, root.Response));
            }

            // An incomplete response (max_output_tokens, content filter) is still a finished one.
            Complete = !type.StringEquals(data, "response.failed"u8);
        }
        else if (type.StringEquals(data, "response.created"u8) || type.StringEquals(data, "response.in_progress"u8))
        {
            if (root.Response.IsObject)
            {
                SeeModel(data, Members.Of(data, root.Response).Model);
            }
        }
        else if (type.StringEquals(data, "error"u8))
        {
            UpstreamError ??= CodeOrType(data, root.Type, root.Code);
        }

        return false;
    }

    public override void OnBody(ReadOnlySpan<byte> body)
    {
        var root = default(Members);
        var cursor = JsonCursor.Root(body, out var isObject);
        if (isObject)
        {
            root = Members.Read(ref cursor);
            cursor.End();
        }

        if (root.Error.IsObject && !root.Output.IsArray)
        {
            UpstreamError = ErrorName(body, root.Error);
            return;
        }

        ReadResponse(body, root);
        Complete = true;
        SawFirstToken = true;
    }

    public override void CollectOutput(ref SegmentList segments)
    {
        for (var i = 0; i < _items.Count; i++)
        {
            var item = _items[i];
            for (var p = 0; p < item.Parts.Count; p++)
            {
                segments.AddAccumulated(item.Parts[p]);
            }

            segments.AddAccumulated(item.Name);
            segments.AddAccumulated(item.Arguments);
        }
    }

    public override void Dispose() => _items.Dispose();

    private static string CodeOrType(ReadOnlySpan<byte> data, JsonRef type, JsonRef code) =>
        code.IsNonEmptyString ? code.String(data)! : ErrorName(data, type, code);

    /// <summary>Notes the root members and validates the whole event. False when the root is not an object.</summary>
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
            _ = cursor.Take("type"u8, ref root.Type) || cursor.Take("delta"u8, ref root.Delta)
                || cursor.Take("output_index"u8, ref root.OutputIndex) || cursor.Take("content_index"u8, ref root.ContentIndex)
                || cursor.Take("item"u8, ref root.Item) || cursor.Take("response"u8, ref root.Response)
                || cursor.Take("code"u8, ref root.Code) || cursor.Skip();
        }

        cursor.End();
        return true;
    }

    private void ReadResponse(ReadOnlySpan<byte> data, Members response)
    {
        SeeModel(data, response.Model);
        if (response.Usage.IsObject)
        {
            // Read only from a whole body or a terminal event (completed, incomplete, failed): the response's final usage.
            Usage = OpenAIUsage(data, response.Usage, responsesApi: true);
            UsageFinal = true;
        }

        if (response.Error.IsObject)
        {
            var (type, code) = TypeAndCode(data, response.Error);
            UpstreamError ??= CodeOrType(data, type, code);
        }

        if (!response.Output.IsArray)
        {
            return;
        }

        // The final response object is authoritative: it replaces what the deltas built up (when it lists anything).
        var cursor = JsonCursor.Open(data, response.Output);
        var index = 0;
        while (cursor.NextElement())
        {
            if (index == 0)
            {
                _items.Clear();
            }

            var item = _items.GetOrAdd(index++, Budget, static budget => new OutputItem(budget));
            var entry = cursor.Note();
            if (entry.IsObject)
            {
                ReadItem(data, Members.Of(data, entry), item);
            }
        }
    }

    /// <summary>A whole output item: message text parts, or a function call's name and arguments. Reasoning is hidden output.</summary>
    private void ReadItem(ReadOnlySpan<byte> data, Members entry, OutputItem item)
    {
        if (entry.Type.StringEquals(data, "message"u8))
        {
            item.Parts.Clear();
            if (!entry.Content.IsArray)
            {
                return;
            }

            var index = 0;
            var cursor = JsonCursor.Open(data, entry.Content);
            while (cursor.NextElement())
            {
                var text = default(JsonRef);
                var value = cursor.Note();
                if (value.IsObject)
                {
                    var part = Members.Of(data, value);
                    text = part.Type.StringEquals(data, "output_text"u8) ? part.Text
                        : part.Type.StringEquals(data, "refusal"u8) ? part.Refusal
                        : default;
                }

                item.Parts.GetOrAdd(index++, Budget, static budget => new TextAccumulator(budget)).Set(data, text);
            }
        }
        else if (entry.Type.StringEquals(data, "function_call"u8))
        {
            item.Name.Set(data, entry.Name);
            item.Arguments.Set(data, entry.Arguments);
        }
    }

    private struct Root
    {
        public JsonRef Type;
        public JsonRef Delta;
        public JsonRef OutputIndex;
        public JsonRef ContentIndex;
        public JsonRef Item;
        public JsonRef Response;
        public JsonRef Code;
    }

    /// <summary>The members read from a response, an output item or a content part: each kind has only some of them.</summary>
    private struct Members
    {
        public JsonRef Type;
        public JsonRef Model;
        public JsonRef Usage;
        public JsonRef Error;
        public JsonRef Output;
        public JsonRef Content;
        public JsonRef Name;
        public JsonRef Arguments;
        public JsonRef Text;
        public JsonRef Refusal;

        public static Members Of(ReadOnlySpan<byte> data, JsonRef owner)
        {
            var cursor = JsonCursor.Open(data, owner);
            return Read(ref cursor);
        }

        /// <summary>From the cursor's current object, to its end.</summary>
        public static Members Read(ref JsonCursor cursor)
        {
            var members = default(Members);
            while (cursor.NextMember())
            {
                _ = cursor.Take("type"u8, ref members.Type) || cursor.Take("model"u8, ref members.Model)
                    || cursor.Take("usage"u8, ref members.Usage) || cursor.Take("error"u8, ref members.Error)
                    || cursor.Take("output"u8, ref members.Output) || cursor.Take("content"u8, ref members.Content)
                    || cursor.Take("name"u8, ref members.Name) || cursor.Take("arguments"u8, ref members.Arguments)
                    || cursor.Take("text"u8, ref members.Text) || cursor.Take("refusal"u8, ref members.Refusal)
                    || cursor.Skip();
            }

            return members;
        }
    }

    private sealed class OutputItem(TextBudget budget) : IDisposable
    {
        public IndexedParts<TextAccumulator> Parts { get; } = new();

        public TextAccumulator Name { get; } = new(budget);

        public TextAccumulator Arguments { get; } = new(budget);

        public void Dispose()
        {
            Parts.Dispose();
            Name.Dispose();
            Arguments.Dispose();
        }
    }
}
