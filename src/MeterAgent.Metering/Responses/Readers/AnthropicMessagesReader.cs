using System.Text.Json;
using MeterAgent.Metering.Canonical;
using MeterAgent.Metering.Usage;

namespace MeterAgent.Metering.Responses.Readers;

/// <summary>
/// Anthropic Messages: content blocks, and usage split over message_start (input side, first output count) and
/// message_delta (cumulative counts): the latest value of each field wins.
/// </summary>
internal sealed class AnthropicMessagesReader : ResponseReader
{
    private readonly IndexedParts<Block> _blocks = new();
    private long? _input;
    private long? _output;
    private long? _cacheCreation;
    private long? _cacheRead;

    public override bool OnEvent(ReadOnlySpan<byte> eventName, JsonElement data)
    {
        if (!Json.TryGet(data, "type"u8, JsonValueKind.String, out var type))
        {
            return false;
        }

        if (type.ValueEquals("content_block_delta"u8))
        {
            if (Json.TryGet(data, "delta"u8, JsonValueKind.Object, out var delta))
            {
                var block = _blocks.GetOrAdd(Json.Index(data, "index"u8), static () => new Block());
                string? text = null;
                if (Json.StringEquals(delta, "type"u8, "text_delta"u8))
                {
                    text = Json.String(delta, "text"u8);
                    block.Text.Append(text);
                }
                else if (Json.StringEquals(delta, "type"u8, "input_json_delta"u8))
                {
                    text = Json.String(delta, "partial_json"u8);
                    block.Input.Append(text);
                }

                SeeText(text);
            }
        }
        else if (type.ValueEquals("content_block_start"u8))
        {
            if (Json.TryGet(data, "content_block"u8, JsonValueKind.Object, out var content))
            {
                var block = _blocks.GetOrAdd(Json.Index(data, "index"u8), static () => new Block());
                if (Json.StringEquals(content, "type"u8, "text"u8))
                {
                    var text = Json.String(content, "text"u8);
                    block.Text.Set(text);
                    SeeText(text);
                }
                else if (Json.StringEquals(content, "type"u8, "tool_use"u8))
                {
                    // The start carries input {} as a placeholder; the input itself arrives as input_json_delta.
                    var name = Json.String(content, "name"u8);
                    block.Name.Set(name);
                    SeeText(name);
                }
            }
        }
        else if (type.ValueEquals("message_start"u8))
        {
            if (Json.TryGet(data, "message"u8, JsonValueKind.Object, out var message))
            {
                SeeModel(message);
                ReadUsage(message);
            }
        }
        else if (type.ValueEquals("message_delta"u8))
        {
            ReadUsage(data);
        }
        else if (type.ValueEquals("message_stop"u8))
        {
            Complete = true;
        }
        else if (type.ValueEquals("error"u8))
        {
            UpstreamError ??= Json.TryGet(data, "error"u8, JsonValueKind.Object, out var error) ? ErrorName(error) : "error";
        }

        return false;
    }

    public override void OnBody(JsonElement root)
    {
        if (Json.StringEquals(root, "type"u8, "error"u8))
        {
            UpstreamError = Json.TryGet(root, "error"u8, JsonValueKind.Object, out var error) ? ErrorName(error) : "error";
            return;
        }

        SeeModel(root);
        ReadUsage(root);
        if (Json.TryGet(root, "content"u8, JsonValueKind.Array, out var content))
        {
            var index = 0;
            foreach (var entry in content.EnumerateArray())
            {
                var block = _blocks.GetOrAdd(index++, static () => new Block());
                if (Json.StringEquals(entry, "type"u8, "text"u8))
                {
                    block.Text.Set(Json.String(entry, "text"u8));
                }
                else if (Json.StringEquals(entry, "type"u8, "tool_use"u8))
                {
                    block.Name.Set(Json.String(entry, "name"u8));
                    if (entry.TryGetProperty("input"u8, out var input))
                    {
                        block.Input.Set(input.GetRawText());
                    }
                }
            }
        }

        Complete = true;
        SawFirstToken = true;
    }

    public override void CollectOutput(SegmentList segments)
    {
        for (var i = 0; i < _blocks.Count; i++)
        {
            segments.Add(_blocks[i].Text.ToString());
            segments.Add(_blocks[i].Name.ToString());
            segments.Add(_blocks[i].Input.ToString());
        }
    }

    private void ReadUsage(JsonElement owner)
    {
        if (!Json.TryGet(owner, "usage"u8, JsonValueKind.Object, out var usage))
        {
            return;
        }

        _input = Json.OptionalLong(usage, "input_tokens"u8) ?? _input;
        _output = Json.OptionalLong(usage, "output_tokens"u8) ?? _output;
        _cacheCreation = Json.OptionalLong(usage, "cache_creation_input_tokens"u8) ?? _cacheCreation;
        _cacheRead = Json.OptionalLong(usage, "cache_read_input_tokens"u8) ?? _cacheRead;
        Usage = UsageNormalizer.FromAnthropic(_input ?? 0, _cacheCreation ?? 0, _cacheRead ?? 0, _output ?? 0);
    }

    private sealed class Block
    {
        public TextAccumulator Text { get; } = new();

        public TextAccumulator Name { get; } = new();

        public TextAccumulator Input { get; } = new();
    }
}
