using System.Text.Json;
using MeterAgent.Emulator.Pipeline;

namespace MeterAgent.Emulator.OpenAI;

/// <summary>
/// POST /v1/responses: a "response" object with one assistant message, or the real event sequence from
/// response.created to response.completed, each event numbered by sequence_number.
/// </summary>
internal sealed class ResponsesSurface : ApiSurface
{
    public override ApiFlavor Flavor => ApiFlavor.OpenAI;

    public override string IdPrefix => "resp_";

    public override ReadOnlySpan<byte> DeltaEventName => "response.output_text.delta"u8;

    public override RequestError? Parse(JsonElement root, EmulatedRequest request)
    {
        if (EmulatorJson.ReadModel(root, request) is { } modelError)
        {
            return modelError;
        }

        if (!root.TryGetProperty("input"u8, out var input) || input.ValueKind is not (JsonValueKind.String or JsonValueKind.Array))
        {
            return new RequestError("Missing required parameter: 'input'.", "input");
        }

        request.Instructions = EmulatorJson.GetString(root, "instructions"u8);
        if (request.Instructions is not null)
        {
            request.Prompt.AddMessageOverhead();
            request.Prompt.AddText(request.Instructions);
        }

        if (input.ValueKind == JsonValueKind.String)
        {
            request.Prompt.AddMessageOverhead();
            request.Prompt.AddText(input.GetString());
        }
        else
        {
            request.Prompt.AddMessages(input);
        }

        var error = EmulatorJson.GetPositiveInt(root, "max_output_tokens", out var max);
        request.MaxTokens = max;
        return error;
    }

    public override void WriteResponse(Utf8JsonWriter json, EmulatedRequest request) =>
        WriteResponseObject(json, request, completed: true);

    public override void WriteStreamStart(SseWriter sse, EmulatedRequest request)
    {
        var json = BeginEvent(sse, request, "response.created"u8);
        json.WritePropertyName("response"u8);
        WriteResponseObject(json, request, completed: false);
        EndEvent(sse);

        json = BeginEvent(sse, request, "response.in_progress"u8);
        json.WritePropertyName("response"u8);
        WriteResponseObject(json, request, completed: false);
        EndEvent(sse);

        json = BeginEvent(sse, request, "response.output_item.added"u8);
        json.WriteNumber("output_index"u8, 0);
        json.WritePropertyName("item"u8);
        WriteMessageItem(json, request, completed: false);
        EndEvent(sse);

        json = BeginEvent(sse, request, "response.content_part.added"u8);
        WritePartAddress(json, request);
        json.WritePropertyName("part"u8);
        WriteOutputText(json, default);
        EndEvent(sse);
    }

    public override void WriteStreamDelta(SseWriter sse, EmulatedRequest request, ReadOnlySpan<char> text)
    {
        var json = BeginEvent(sse, request, "response.output_text.delta"u8);
        WritePartAddress(json, request);
        json.WriteGeneratedText("delta"u8, text);
        json.WriteStartArray("logprobs"u8);
        json.WriteEndArray();
        EndEvent(sse);
    }

    public override void WriteStreamEnd(SseWriter sse, EmulatedRequest request)
    {
        var text = request.Output.Text;
        var json = BeginEvent(sse, request, "response.output_text.done"u8);
        WritePartAddress(json, request);
        json.WriteGeneratedText("text"u8, text);
        json.WriteStartArray("logprobs"u8);
        json.WriteEndArray();
        EndEvent(sse);

        json = BeginEvent(sse, request, "response.content_part.done"u8);
        WritePartAddress(json, request);
        json.WritePropertyName("part"u8);
        WriteOutputText(json, text);
        EndEvent(sse);

        json = BeginEvent(sse, request, "response.output_item.done"u8);
        json.WriteNumber("output_index"u8, 0);
        json.WritePropertyName("item"u8);
        WriteMessageItem(json, request, completed: true);
        EndEvent(sse);

        json = BeginEvent(sse, request, "response.completed"u8);
        json.WritePropertyName("response"u8);
        WriteResponseObject(json, request, completed: true);
        EndEvent(sse);
    }

    private static Utf8JsonWriter BeginEvent(SseWriter sse, EmulatedRequest request, ReadOnlySpan<byte> type)
    {
        var json = sse.Begin(type);
        json.WriteStartObject();
        json.WriteString("type"u8, type);
        json.WriteNumber("sequence_number"u8, request.SequenceNumber++);
        return json;
    }

    private static void EndEvent(SseWriter sse)
    {
        sse.Json.WriteEndObject();
        sse.End();
    }

    private static void WritePartAddress(Utf8JsonWriter json, EmulatedRequest request)
    {
        json.WriteString("item_id"u8, MessageId(request));
        json.WriteNumber("output_index"u8, 0);
        json.WriteNumber("content_index"u8, 0);
    }

    private static string MessageId(EmulatedRequest request) => string.Concat("msg_", request.Id.AsSpan(5));

    private static void WriteOutputText(Utf8JsonWriter json, ReadOnlySpan<char> text)
    {
        json.WriteStartObject();
        json.WriteString("type"u8, "output_text"u8);
        json.WriteStartArray("annotations"u8);
        json.WriteEndArray();
        json.WriteStartArray("logprobs"u8);
        json.WriteEndArray();
        json.WriteGeneratedText("text"u8, text);
        json.WriteEndObject();
    }

    private static void WriteMessageItem(Utf8JsonWriter json, EmulatedRequest request, bool completed)
    {
        json.WriteStartObject();
        json.WriteString("id"u8, MessageId(request));
        json.WriteString("type"u8, "message"u8);
        json.WriteString("status"u8, completed ? "completed"u8 : "in_progress"u8);
        json.WriteStartArray("content"u8);
        if (completed)
        {
            WriteOutputText(json, request.Output.Text);
        }

        json.WriteEndArray();
        json.WriteString("role"u8, "assistant"u8);
        json.WriteEndObject();
    }

    private static void WriteResponseObject(Utf8JsonWriter json, EmulatedRequest request, bool completed)
    {
        json.WriteStartObject();
        json.WriteString("id"u8, request.Id);
        json.WriteString("object"u8, "response"u8);
        json.WriteNumber("created_at"u8, EmulatedRequest.Created);
        json.WriteString("status"u8, completed ? "completed"u8 : "in_progress"u8);
        json.WriteBoolean("background"u8, false);
        json.WriteNull("error"u8);
        json.WriteNull("incomplete_details"u8);
        json.WriteString("instructions"u8, request.Instructions);
        if (request.MaxTokens is { } max)
        {
            json.WriteNumber("max_output_tokens"u8, max);
        }
        else
        {
            json.WriteNull("max_output_tokens"u8);
        }

        json.WriteString("model"u8, request.Model);
        json.WriteStartArray("output"u8);
        if (completed)
        {
            WriteMessageItem(json, request, completed: true);
        }

        json.WriteEndArray();
        json.WriteBoolean("parallel_tool_calls"u8, true);
        json.WriteNull("previous_response_id"u8);
        json.WriteStartObject("reasoning"u8);
        json.WriteNull("effort"u8);
        json.WriteNull("summary"u8);
        json.WriteEndObject();
        json.WriteString("service_tier"u8, "default"u8);
        json.WriteBoolean("store"u8, false);
        json.WriteNumber("temperature"u8, 1.0);
        json.WriteStartObject("text"u8);
        json.WriteStartObject("format"u8);
        json.WriteString("type"u8, "text"u8);
        json.WriteEndObject();
        json.WriteEndObject();
        json.WriteString("tool_choice"u8, "auto"u8);
        json.WriteStartArray("tools"u8);
        json.WriteEndArray();
        json.WriteNumber("top_p"u8, 1.0);
        json.WriteString("truncation"u8, "disabled"u8);
        if (completed && request.WriteUsage)
        {
            OpenAIUsage.WriteResponseUsage(json, request.Usage);
        }
        else if (request.WriteUsage)
        {
            json.WriteNull("usage"u8);
        }

        json.WriteNull("user"u8);
        json.WriteStartObject("metadata"u8);
        json.WriteEndObject();
        json.WriteEndObject();
    }
}
