using System.Text.Json;
using MeterAgent.Metering.Surfaces;

namespace MeterAgent.Metering.Canonical;

/// <summary>The canonical input text of a request body, per surface (docs/canonical-text.md, "Input").</summary>
internal static class InputText
{
    public static void Collect(ApiSurface surface, JsonElement root, ref SegmentList segments)
    {
        switch (surface)
        {
            case ApiSurface.OpenAIChatCompletions:
                ChatCompletions(root, ref segments);
                break;
            case ApiSurface.OpenAICompletions:
                StringOrStrings(root, "prompt"u8, ref segments);
                segments.AddStringMember(root, "suffix"u8);
                break;
            case ApiSurface.OpenAIResponses:
                Responses(root, ref segments);
                break;
            case ApiSurface.OpenAIEmbeddings:
                StringOrStrings(root, "input"u8, ref segments);
                break;
            case ApiSurface.AnthropicMessages:
                AnthropicMessages(root, ref segments);
                break;
            default:
                break;
        }
    }

    private static void ChatCompletions(JsonElement root, ref SegmentList segments)
    {
        if (Json.TryGet(root, "messages"u8, JsonValueKind.Array, out var messages))
        {
            foreach (var message in messages.EnumerateArray())
            {
                segments.AddStringMember(message, "role"u8);
                segments.AddStringMember(message, "name"u8);
                if (message.ValueKind == JsonValueKind.Object && message.TryGetProperty("content"u8, out var content))
                {
                    TextOrParts(content, ref segments, "text"u8);
                }

                segments.AddStringMember(message, "refusal"u8);
                if (Json.TryGet(message, "tool_calls"u8, JsonValueKind.Array, out var toolCalls))
                {
                    foreach (var call in toolCalls.EnumerateArray())
                    {
                        if (Json.TryGet(call, "function"u8, JsonValueKind.Object, out var function))
                        {
                            segments.AddStringMember(function, "name"u8);
                            segments.AddStringMember(function, "arguments"u8);
                        }
                    }
                }
            }
        }

        if (Json.TryGet(root, "tools"u8, JsonValueKind.Array, out var tools))
        {
            foreach (var tool in tools.EnumerateArray())
            {
                if (Json.StringEquals(tool, "type"u8, "function"u8) && Json.TryGet(tool, "function"u8, JsonValueKind.Object, out var function))
                {
                    segments.AddStringMember(function, "name"u8);
                    segments.AddStringMember(function, "description"u8);
                    segments.AddRawMember(function, "parameters"u8);
                }
            }
        }
    }

    /// <summary>A string, or an array of parts where parts of <paramref name="textType"/> contribute "text" and others are non-text.</summary>
    private static void TextOrParts(JsonElement content, ref SegmentList segments, ReadOnlySpan<byte> textType)
    {
        if (content.ValueKind == JsonValueKind.String)
        {
            segments.AddString(content);
            return;
        }

        if (content.ValueKind != JsonValueKind.Array)
        {
            return;
        }

        foreach (var part in content.EnumerateArray())
        {
            if (Json.StringEquals(part, "type"u8, textType))
            {
                segments.AddStringMember(part, "text"u8);
            }
            else
            {
                segments.MarkNonText();
            }
        }
    }

    /// <summary>A string, or an array of strings; token-id arrays (numbers or arrays of numbers) are non-text.</summary>
    private static void StringOrStrings(JsonElement root, ReadOnlySpan<byte> name, ref SegmentList segments)
    {
        if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty(name, out var value))
        {
            return;
        }

        if (value.ValueKind == JsonValueKind.String)
        {
            segments.AddString(value);
            return;
        }

        if (value.ValueKind != JsonValueKind.Array)
        {
            return;
        }

        foreach (var item in value.EnumerateArray())
        {
            if (item.ValueKind == JsonValueKind.String)
            {
                segments.AddString(item);
            }
            else
            {
                segments.MarkNonText();
            }
        }
    }

    private static void Responses(JsonElement root, ref SegmentList segments)
    {
        segments.AddStringMember(root, "instructions"u8);
        if (root.TryGetProperty("input"u8, out var input))
        {
            if (input.ValueKind == JsonValueKind.String)
            {
                segments.AddString(input);
            }
            else if (input.ValueKind == JsonValueKind.Array)
            {
                foreach (var item in input.EnumerateArray())
                {
                    ResponsesInputItem(item, ref segments);
                }
            }
        }

        if (Json.TryGet(root, "tools"u8, JsonValueKind.Array, out var tools))
        {
            foreach (var tool in tools.EnumerateArray())
            {
                if (Json.StringEquals(tool, "type"u8, "function"u8))
                {
                    segments.AddStringMember(tool, "name"u8);
                    segments.AddStringMember(tool, "description"u8);
                    segments.AddRawMember(tool, "parameters"u8);
                }
            }
        }
    }

    private static void ResponsesInputItem(JsonElement item, ref SegmentList segments)
    {
        if (item.ValueKind != JsonValueKind.Object)
        {
            return;
        }

        var hasType = Json.TryGet(item, "type"u8, JsonValueKind.String, out var type);
        if ((!hasType && item.TryGetProperty("role"u8, out _)) || (hasType && type.ValueEquals("message"u8)))
        {
            segments.AddStringMember(item, "role"u8);
            if (!item.TryGetProperty("content"u8, out var content))
            {
                return;
            }

            if (content.ValueKind == JsonValueKind.String)
            {
                segments.AddString(content);
                return;
            }

            if (content.ValueKind != JsonValueKind.Array)
            {
                return;
            }

            foreach (var part in content.EnumerateArray())
            {
                if (Json.StringEquals(part, "type"u8, "input_text"u8) || Json.StringEquals(part, "type"u8, "output_text"u8))
                {
                    segments.AddStringMember(part, "text"u8);
                }
                else if (Json.StringEquals(part, "type"u8, "refusal"u8))
                {
                    segments.AddStringMember(part, "refusal"u8);
                }
                else
                {
                    segments.MarkNonText();
                }
            }
        }
        else if (hasType && type.ValueEquals("function_call"u8))
        {
            segments.AddStringMember(item, "name"u8);
            segments.AddStringMember(item, "arguments"u8);
        }
        else if (hasType && type.ValueEquals("function_call_output"u8))
        {
            segments.AddStringMember(item, "output"u8);
        }
        else if (hasType && (type.ValueEquals("reasoning"u8) || type.ValueEquals("item_reference"u8)))
        {
            // Hidden reasoning and references to stored items carry no visible text of this request.
        }
        else
        {
            segments.MarkNonText();
        }
    }

    private static void AnthropicMessages(JsonElement root, ref SegmentList segments)
    {
        if (root.TryGetProperty("system"u8, out var system))
        {
            TextOrParts(system, ref segments, "text"u8);
        }

        if (Json.TryGet(root, "messages"u8, JsonValueKind.Array, out var messages))
        {
            foreach (var message in messages.EnumerateArray())
            {
                segments.AddStringMember(message, "role"u8);
                if (message.ValueKind != JsonValueKind.Object || !message.TryGetProperty("content"u8, out var content))
                {
                    continue;
                }

                if (content.ValueKind == JsonValueKind.String)
                {
                    segments.AddString(content);
                }
                else if (content.ValueKind == JsonValueKind.Array)
                {
                    foreach (var block in content.EnumerateArray())
                    {
                        AnthropicBlock(block, ref segments);
                    }
                }
            }
        }

        if (Json.TryGet(root, "tools"u8, JsonValueKind.Array, out var tools))
        {
            foreach (var tool in tools.EnumerateArray())
            {
                segments.AddStringMember(tool, "name"u8);
                segments.AddStringMember(tool, "description"u8);
                segments.AddRawMember(tool, "input_schema"u8);
            }
        }
    }

    private static void AnthropicBlock(JsonElement block, ref SegmentList segments)
    {
        if (!Json.TryGet(block, "type"u8, JsonValueKind.String, out var type))
        {
            return;
        }

        if (type.ValueEquals("text"u8))
        {
            segments.AddStringMember(block, "text"u8);
        }
        else if (type.ValueEquals("tool_use"u8))
        {
            segments.AddStringMember(block, "name"u8);
            segments.AddRawMember(block, "input"u8);
        }
        else if (type.ValueEquals("tool_result"u8))
        {
            if (block.TryGetProperty("content"u8, out var content))
            {
                TextOrParts(content, ref segments, "text"u8);
            }
        }
        else if (type.ValueEquals("thinking"u8))
        {
            segments.AddStringMember(block, "thinking"u8);
        }
        else if (type.ValueEquals("redacted_thinking"u8))
        {
            // Encrypted: no visible text. It is not a part a client could have measured either.
        }
        else
        {
            segments.MarkNonText();
        }
    }
}
