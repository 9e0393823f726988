using System.Text.Json;
using MeterAgent.Emulator.Pipeline;

namespace MeterAgent.Emulator.OpenAI;

/// <summary>
/// GET /v1/models. The emulator answers for any model name; these are the ones it advertises, including
/// a "reasoning" one that reports hidden reasoning tokens.
/// </summary>
internal static class ModelsEndpoint
{
    public static readonly string[] Models = ["emulator-chat", "emulator-reasoning", "emulator-embedding", "claude-emulator"];

    private static readonly byte[] Body = BuildBody();

    public static async Task HandleAsync(HttpContext context)
    {
        context.Response.ContentType = "application/json";
        context.Response.ContentLength = Body.Length;
        await context.Response.Body.WriteAsync(Body, context.RequestAborted);
    }

    private static byte[] BuildBody()
    {
        using var buffer = new PooledBufferWriter();
        using (var json = new Utf8JsonWriter(buffer, EmulatorJson.WriterOptions))
        {
            json.WriteStartObject();
            json.WriteString("object"u8, "list"u8);
            json.WriteStartArray("data"u8);
            foreach (var model in Models)
            {
                json.WriteStartObject();
                json.WriteString("id"u8, model);
                json.WriteString("object"u8, "model"u8);
                json.WriteNumber("created"u8, EmulatedRequest.Created);
                json.WriteString("owned_by"u8, "meteragent-emulator"u8);
                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteEndObject();
        }

        return buffer.WrittenMemory.ToArray();
    }
}
