using System.Text.Json;

namespace MeterAgent.Emulator.Pipeline;

/// <summary>Errors in each vendor's own shape, so SDKs raise their typed exceptions.</summary>
internal static class ErrorWriter
{
    public static async Task WriteAsync(HttpContext context, ApiFlavor flavor, int status, string message, string? param = null, string? code = null)
    {
        using var buffer = new PooledBufferWriter();
        using (var json = new Utf8JsonWriter(buffer, EmulatorJson.WriterOptions))
        {
            if (flavor == ApiFlavor.Anthropic)
            {
                WriteAnthropic(json, status, message);
            }
            else
            {
                WriteOpenAI(json, status, message, param, code);
            }
        }

        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        context.Response.ContentLength = buffer.WrittenMemory.Length;
        await context.Response.BodyWriter.WriteAsync(buffer.WrittenMemory, context.RequestAborted);
    }

    private static void WriteOpenAI(Utf8JsonWriter json, int status, string message, string? param, string? code)
    {
        var (type, defaultCode) = status switch
        {
            401 => ("invalid_request_error", "invalid_api_key"),
            429 => ("requests", "rate_limit_exceeded"),
            >= 500 => ("server_error", null),
            _ => ("invalid_request_error", null),
        };
        json.WriteStartObject();
        json.WriteStartObject("error"u8);
        json.WriteString("message"u8, message);
        json.WriteString("type"u8, type);
        json.WriteString("param"u8, param);
        json.WriteString("code"u8, code ?? defaultCode);
        json.WriteEndObject();
        json.WriteEndObject();
    }

    private static void WriteAnthropic(Utf8JsonWriter json, int status, string message)
    {
        var type = status switch
        {
            400 => "invalid_request_error",
            401 => "authentication_error",
            402 => "billing_error",
            403 => "permission_error",
            404 => "not_found_error",
            413 => "request_too_large",
            429 => "rate_limit_error",
            504 => "timeout_error",
            529 => "overloaded_error",
            >= 500 => "api_error",
            _ => "invalid_request_error",
        };
        json.WriteStartObject();
        json.WriteString("type"u8, "error");
        json.WriteStartObject("error"u8);
        json.WriteString("type"u8, type);
        json.WriteString("message"u8, message);
        json.WriteEndObject();
        json.WriteEndObject();
    }
}
