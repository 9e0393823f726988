using System.Text.Encodings.Web;
using System.Text.Json;

namespace MeterAgent.Emulator.Pipeline;

/// <summary>Shared writer settings and small helpers for reading request fields.</summary>
internal static class EmulatorJson
{
    /// <summary>
    /// Relaxed escaping so non-ASCII text goes out as raw UTF-8, as the real APIs send it; clients and the
    /// meter must cope with multi-byte characters split across stream reads.
    /// </summary>
    public static readonly JsonWriterOptions WriterOptions = new()
    {
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        SkipValidation = true,
    };

    public static string? GetString(JsonElement root, ReadOnlySpan<byte> name) =>
        root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    public static bool GetBool(JsonElement root, ReadOnlySpan<byte> name) =>
        root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.True;

    /// <summary>An optional positive integer; a present but invalid value is an error.</summary>
    public static RequestError? GetPositiveInt(JsonElement root, string name, out int? result)
    {
        result = null;
        if (!root.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt32(out var number) || number < 1)
        {
            return new RequestError($"Invalid '{name}': expected an integer of at least 1.", name);
        }

        result = number;
        return null;
    }

    /// <summary>Every surface needs a model; the message mirrors OpenAI's.</summary>
    public static RequestError? ReadModel(JsonElement root, EmulatedRequest request)
    {
        var model = GetString(root, "model"u8);
        if (string.IsNullOrEmpty(model))
        {
            return new RequestError("you must provide a model parameter", "model");
        }

        request.Model = model;
        request.Stream = GetBool(root, "stream"u8);
        return null;
    }
}
