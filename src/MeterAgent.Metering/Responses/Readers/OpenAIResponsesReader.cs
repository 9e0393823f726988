using System.Text.Json;
using MeterAgent.Metering.Canonical;
using MeterAgent.Metering.Usage;

namespace MeterAgent.Metering.Responses.Readers;

/// <summary>OpenAI Responses API: output items (messages, function calls), usage on the response object or its terminal event.</summary>
internal sealed class OpenAIResponsesReader : ResponseReader
{
    private readonly IndexedParts<OutputItem> _items = new();

    public override bool OnEvent(ReadOnlySpan<byte> eventName, JsonElement data)
    {
        if (!Json.TryGet(data, "type"u8, JsonValueKind.String, out var type))
        {
            return false;
        }

        if (type.ValueEquals("response.output_text.delta"u8) || type.ValueEquals("response.refusal.delta"u8))
        {
            var delta = Json.String(data, "delta"u8);
            var item = _items.GetOrAdd(Json.Index(data, "output_index"u8), static () => new OutputItem());
            item.Parts.GetOrAdd(Json.Index(data, "content_index"u8), static () => new TextAccumulator()).Append(delta);
            SeeText(delta);
        }
        else if (type.ValueEquals("response.function_call_arguments.delta"u8))
        {
            var delta = Json.String(data, "delta"u8);
            _items.GetOrAdd(Json.Index(data, "output_index"u8), static () => new OutputItem()).Arguments.Append(delta);
            SeeText(delta);
        }
        else if (type.ValueEquals("response.output_item.added"u8) || type.ValueEquals("response.output_item.done"u8))
        {
            if (Json.TryGet(data, "item"u8, JsonValueKind.Object, out var added))
            {
                var item = _items.GetOrAdd(Json.Index(data, "output_index"u8), static () => new OutputItem());
                if (Json.String(added, "name"u8) is { Length: > 0 } name)
                {
                    // The name arrives whole with the item; it is output the client sees, like a first delta.
                    item.Name.Set(name);
                    SawFirstToken = true;
                }

                if (type.ValueEquals("response.output_item.done"u8))
                {
                    ReadItem(added, item);
                }
            }
        }
        else if (type.ValueEquals("response.completed"u8) || type.ValueEquals("response.incomplete"u8)
            || type.ValueEquals("response.failed"u8))
        {
            if (Json.TryGet(data, "response"u8, JsonValueKind.Object, out var response))
            {
                ReadResponse(response);
            }

            // An incomplete response (max_output_tokens, content filter) is still a finished one.
            Complete = !type.ValueEquals("response.failed"u8);
        }
        else if (type.ValueEquals("response.created"u8) || type.ValueEquals("response.in_progress"u8))
        {
            if (Json.TryGet(data, "response"u8, JsonValueKind.Object, out var response))
            {
                SeeModel(response);
            }
        }
        else if (type.ValueEquals("error"u8))
        {
            UpstreamError ??= CodeOrType(data);
        }

        return false;
    }

    public override void OnBody(JsonElement root)
    {
        if (Json.TryGet(root, "error"u8, JsonValueKind.Object, out var error) && !Json.TryGet(root, "output"u8, JsonValueKind.Array, out _))
        {
            UpstreamError = ErrorName(error);
            return;
        }

        ReadResponse(root);
        Complete = true;
        SawFirstToken = true;
    }

    public override void CollectOutput(SegmentList segments)
    {
        for (var i = 0; i < _items.Count; i++)
        {
            var item = _items[i];
            for (var p = 0; p < item.Parts.Count; p++)
            {
                segments.Add(item.Parts[p].ToString());
            }

            segments.Add(item.Name.ToString());
            segments.Add(item.Arguments.ToString());
        }
    }

    private static string CodeOrType(JsonElement error) =>
        Json.String(error, "code"u8) is { Length: > 0 } code ? code : ErrorName(error);

    private void ReadResponse(JsonElement response)
    {
        SeeModel(response);
        if (Json.TryGet(response, "usage"u8, JsonValueKind.Object, out var usage))
        {
            Usage = UsageNormalizer.FromOpenAIResponses(usage);
        }

        if (Json.TryGet(response, "error"u8, JsonValueKind.Object, out var error))
        {
            UpstreamError ??= CodeOrType(error);
        }

        // The final response object is authoritative: it replaces what the deltas built up.
        if (Json.TryGet(response, "output"u8, JsonValueKind.Array, out var output) && output.GetArrayLength() > 0)
        {
            _items.Clear();
            var index = 0;
            foreach (var entry in output.EnumerateArray())
            {
                ReadItem(entry, _items.GetOrAdd(index++, static () => new OutputItem()));
            }
        }
    }

    /// <summary>A whole output item: message text parts, or a function call's name and arguments. Reasoning is hidden output.</summary>
    private static void ReadItem(JsonElement entry, OutputItem item)
    {
        if (Json.StringEquals(entry, "type"u8, "message"u8))
        {
            item.Parts.Clear();
            if (!Json.TryGet(entry, "content"u8, JsonValueKind.Array, out var content))
            {
                return;
            }

            var index = 0;
            foreach (var part in content.EnumerateArray())
            {
                var text = Json.StringEquals(part, "type"u8, "output_text"u8) ? Json.String(part, "text"u8)
                    : Json.StringEquals(part, "type"u8, "refusal"u8) ? Json.String(part, "refusal"u8)
                    : null;
                item.Parts.GetOrAdd(index++, static () => new TextAccumulator()).Set(text);
            }
        }
        else if (Json.StringEquals(entry, "type"u8, "function_call"u8))
        {
            item.Name.Set(Json.String(entry, "name"u8));
            item.Arguments.Set(Json.String(entry, "arguments"u8));
        }
    }

    private sealed class OutputItem
    {
        public IndexedParts<TextAccumulator> Parts { get; } = new();

        public TextAccumulator Name { get; } = new();

        public TextAccumulator Arguments { get; } = new();
    }
}
