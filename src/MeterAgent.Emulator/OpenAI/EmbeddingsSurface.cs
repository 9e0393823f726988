using System.Buffers.Binary;
using System.Text.Json;
using MeterAgent.Emulator.Pipeline;
using MeterAgent.Emulator.Text;

namespace MeterAgent.Emulator.OpenAI;

/// <summary>
/// POST /v1/embeddings: deterministic unit vectors (dimension 8 unless "dimensions"), as float arrays or
/// base64 little-endian float32, which is what the OpenAI .NET SDK asks for by default.
/// </summary>
internal sealed class EmbeddingsSurface : ApiSurface
{
    public const int DefaultDimensions = 8;
    private const int MaxDimensions = 4096;

    public override ApiFlavor Flavor => ApiFlavor.OpenAI;

    public override string IdPrefix => "emb-";

    public override bool GeneratesText => false;

    public override ReadOnlySpan<byte> DeltaEventName => default;

    public override RequestError? Parse(JsonElement root, EmulatedRequest request)
    {
        if (EmulatorJson.ReadModel(root, request) is { } modelError)
        {
            return modelError;
        }

        // Embeddings never stream; a "stream" field is ignored, as the real API does.
        request.Stream = false;
        if (!root.TryGetProperty("input"u8, out var input))
        {
            return new RequestError("Missing required parameter: 'input'.", "input");
        }

        if (input.ValueKind == JsonValueKind.String)
        {
            request.Inputs.Add(input.GetString()!);
        }
        else if (input.ValueKind == JsonValueKind.Array && input.GetArrayLength() > 0)
        {
            foreach (var item in input.EnumerateArray())
            {
                if (item.ValueKind != JsonValueKind.String)
                {
                    return new RequestError("The emulator accepts 'input' as a string or an array of strings.", "input");
                }

                request.Inputs.Add(item.GetString()!);
            }
        }
        else
        {
            return new RequestError("'input' must be a non-empty string or array of strings.", "input");
        }

        foreach (var text in request.Inputs)
        {
            request.Prompt.AddText(text);
        }

        if (EmulatorJson.GetPositiveInt(root, "dimensions", out var dimensions) is { } dimensionsError)
        {
            return dimensionsError;
        }

        if (dimensions > MaxDimensions)
        {
            return new RequestError($"'dimensions' must be at most {MaxDimensions}.", "dimensions");
        }

        request.Dimensions = dimensions;
        var format = EmulatorJson.GetString(root, "encoding_format"u8);
        if (format is not (null or "float" or "base64"))
        {
            return new RequestError("'encoding_format' must be 'float' or 'base64'.", "encoding_format");
        }

        request.Base64 = format == "base64";
        return null;
    }

    public override void WriteResponse(Utf8JsonWriter json, EmulatedRequest request)
    {
        var dimensions = request.Dimensions ?? DefaultDimensions;
        Span<float> vector = stackalloc float[dimensions];
        var bytes = request.Base64 ? new byte[dimensions * sizeof(float)] : null;

        json.WriteStartObject();
        json.WriteString("object"u8, "list"u8);
        json.WriteStartArray("data"u8);
        for (var i = 0; i < request.Inputs.Count; i++)
        {
            Fill(vector, request.Inputs[i], request.Model);
            json.WriteStartObject();
            json.WriteString("object"u8, "embedding"u8);
            json.WriteNumber("index"u8, i);
            if (bytes is not null)
            {
                for (var d = 0; d < dimensions; d++)
                {
                    BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(d * sizeof(float)), vector[d]);
                }

                json.WriteBase64String("embedding"u8, bytes);
            }
            else
            {
                json.WriteStartArray("embedding"u8);
                foreach (var value in vector)
                {
                    json.WriteNumberValue(value);
                }

                json.WriteEndArray();
            }

            json.WriteEndObject();
        }

        json.WriteEndArray();
        json.WriteString("model"u8, request.Model);
        if (request.WriteUsage)
        {
            json.WriteStartObject("usage"u8);
            json.WriteNumber("prompt_tokens"u8, request.Usage.PromptTokens);
            json.WriteNumber("total_tokens"u8, request.Usage.PromptTokens);
            json.WriteEndObject();
        }

        json.WriteEndObject();
    }

    /// <summary>A unit vector seeded by the text and model, so equal texts embed equally.</summary>
    private static void Fill(Span<float> vector, string text, string model)
    {
        var hash = new StableHash();
        hash.Add(text);
        hash.Add(model);
        var random = new SplitMix64(hash.Value);
        var norm = 0.0;
        for (var d = 0; d < vector.Length; d++)
        {
            vector[d] = random.NextSignedUnit();
            norm += vector[d] * vector[d];
        }

        var scale = norm > 0 ? (float)(1 / Math.Sqrt(norm)) : 0f;
        for (var d = 0; d < vector.Length; d++)
        {
            vector[d] *= scale;
        }
    }
}
