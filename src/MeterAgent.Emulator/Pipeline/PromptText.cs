using System.Text.Json;
using MeterAgent.Emulator.Text;

namespace MeterAgent.Emulator.Pipeline;

/// <summary>
/// Accumulates the prompt's native token count and the stable hash that seeds the output, walking the
/// text-bearing parts of a request: plain strings, arrays of strings, and content-part arrays whose parts
/// carry "text" (OpenAI text / input_text / output_text, Anthropic text blocks) or nested "content".
/// </summary>
internal sealed class PromptText
{
    /// <summary>Per-message overhead, as chat templates add role and separator tokens.</summary>
    public const int TokensPerMessage = 3;

    private StableHash _hash = new();

    public int Tokens { get; private set; }

    public bool HasCacheControl { get; private set; }

    public ulong Seed => _hash.Value;

    public void AddText(string? text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return;
        }

        Tokens += NativeTokenizer.Count(text);
        _hash.Add(text);
    }

    public void MarkCacheControl() => HasCacheControl = true;

    public void AddMessageOverhead() => Tokens += TokensPerMessage;

    public void AddSeedText(string text) => _hash.Add(text);

    /// <summary>A string, an array of strings, or an array of content parts.</summary>
    public void AddContent(JsonElement content)
    {
        switch (content.ValueKind)
        {
            case JsonValueKind.String:
                AddText(content.GetString());
                break;
            case JsonValueKind.Array:
                foreach (var part in content.EnumerateArray())
                {
                    AddContent(part);
                }

                break;
            case JsonValueKind.Object:
                if (content.TryGetProperty("cache_control"u8, out var cacheControl) && cacheControl.ValueKind == JsonValueKind.Object)
                {
                    MarkCacheControl();
                }

                if (content.TryGetProperty("text"u8, out var text) && text.ValueKind == JsonValueKind.String)
                {
                    AddText(text.GetString());
                }
                else if (content.TryGetProperty("content"u8, out var nested))
                {
                    AddContent(nested);
                }

                break;
            default:
                break;
        }
    }

    /// <summary>An array of chat-style messages, each with "content"; returns false when it is not an array.</summary>
    public bool AddMessages(JsonElement messages)
    {
        if (messages.ValueKind != JsonValueKind.Array)
        {
            return false;
        }

        foreach (var message in messages.EnumerateArray())
        {
            AddMessageOverhead();
            if (message.ValueKind == JsonValueKind.Object)
            {
                if (message.TryGetProperty("role"u8, out var role) && role.ValueKind == JsonValueKind.String)
                {
                    _hash.Add(role.GetString());
                }

                if (message.TryGetProperty("content"u8, out var content))
                {
                    AddContent(content);
                }
            }
            else
            {
                AddContent(message);
            }
        }

        return true;
    }
}
