using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace MeterAgent.Benchmarks.Payloads;

/// <summary>
/// Request and response bodies shaped as the real APIs send them (field order, ids, nulls, usage objects), built
/// once per benchmark. Non-ASCII stays raw UTF-8 as the providers send it, so splitting can land mid-character.
/// </summary>
internal static class WirePayloads
{
    private static readonly JsonSerializerOptions RawUtf8 = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>
    /// An OpenAI chat stream as the proxy receives it with stream_options.include_usage: a role chunk, content deltas,
    /// a finish chunk, the usage-only chunk, and [DONE]; <paramref name="deltas"/> + 4 events in all.
    /// </summary>
    public static byte[][] OpenAIChatStream(int deltas)
    {
        const string head = "{\"id\":\"chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG\",\"object\":\"chat.completion.chunk\",\"created\":1741570283,"
            + "\"model\":\"gpt-4o-2024-08-06\",\"service_tier\":\"default\",\"system_fingerprint\":\"fp_eb9dce56a8\",\"choices\":";
        var events = new List<byte[]>
        {
            Data(head + "[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\",\"refusal\":null},\"logprobs\":null,\"finish_reason\":null}],\"usage\":null}"),
        };
        foreach (var piece in SampleText.StreamPieces(deltas))
        {
            events.Add(Data(head + "[{\"index\":0,\"delta\":{\"content\":" + Quote(piece) + "},\"logprobs\":null,\"finish_reason\":null}],\"usage\":null}"));
        }

        events.Add(Data(head + "[{\"index\":0,\"delta\":{},\"logprobs\":null,\"finish_reason\":\"stop\"}],\"usage\":null}"));
        events.Add(Data(head + "[],\"usage\":{\"prompt_tokens\":412,\"completion_tokens\":" + Number(deltas)
            + ",\"total_tokens\":" + Number(412 + deltas) + ",\"prompt_tokens_details\":{\"cached_tokens\":0,\"audio_tokens\":0},"
            + "\"completion_tokens_details\":{\"reasoning_tokens\":0,\"audio_tokens\":0,\"accepted_prediction_tokens\":0,\"rejected_prediction_tokens\":0}}}"));
        events.Add("data: [DONE]\n\n"u8.ToArray());
        return [.. events];
    }

    /// <summary>An Anthropic messages stream: message_start, a text block of <paramref name="deltas"/> deltas, message_delta, message_stop.</summary>
    public static byte[][] AnthropicStream(int deltas)
    {
        var events = new List<byte[]>
        {
            Event("message_start", "{\"type\":\"message_start\",\"message\":{\"id\":\"msg_01XFDUDYJgAACzvnptvVoYEL\",\"type\":\"message\","
                + "\"role\":\"assistant\",\"model\":\"claude-sonnet-4-5-20250929\",\"content\":[],\"stop_reason\":null,\"stop_sequence\":null,"
                + "\"usage\":{\"input_tokens\":412,\"cache_creation_input_tokens\":0,\"cache_read_input_tokens\":0,\"output_tokens\":1}}}"),
            Event("content_block_start", "{\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}"),
            Event("ping", "{\"type\": \"ping\"}"),
        };
        foreach (var piece in SampleText.StreamPieces(deltas))
        {
            events.Add(Event("content_block_delta", "{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":" + Quote(piece) + "}}"));
        }

        events.Add(Event("content_block_stop", "{\"type\":\"content_block_stop\",\"index\":0}"));
        events.Add(Event("message_delta", "{\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\",\"stop_sequence\":null},"
            + "\"usage\":{\"output_tokens\":" + Number(deltas) + "}}"));
        events.Add(Event("message_stop", "{\"type\":\"message_stop\"}"));
        return [.. events];
    }

    /// <summary>A non-streaming OpenAI chat completion with about <paramref name="words"/> words of content.</summary>
    public static byte[] OpenAIChatCompletion(int words) => Encoding.UTF8.GetBytes(
        "{\n  \"id\": \"chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT\",\n  \"object\": \"chat.completion\",\n  \"created\": 1741569952,\n"
        + "  \"model\": \"gpt-4o-2024-08-06\",\n  \"choices\": [\n    {\n      \"index\": 0,\n      \"message\": {\n"
        + "        \"role\": \"assistant\",\n        \"content\": " + Quote(string.Concat(SampleText.StreamPieces(words))) + ",\n"
        + "        \"refusal\": null,\n        \"annotations\": []\n      },\n      \"logprobs\": null,\n      \"finish_reason\": \"stop\"\n    }\n  ],\n"
        + "  \"usage\": {\n    \"prompt_tokens\": 412,\n    \"completion_tokens\": " + Number(words) + ",\n    \"total_tokens\": " + Number(412 + words) + ",\n"
        + "    \"prompt_tokens_details\": {\n      \"cached_tokens\": 0,\n      \"audio_tokens\": 0\n    },\n"
        + "    \"completion_tokens_details\": {\n      \"reasoning_tokens\": 0,\n      \"audio_tokens\": 0,\n"
        + "      \"accepted_prediction_tokens\": 0,\n      \"rejected_prediction_tokens\": 0\n    }\n  },\n"
        + "  \"service_tier\": \"default\",\n  \"system_fingerprint\": \"fp_fc9f1d7035\"\n}\n");

    /// <summary>A non-streaming Anthropic message with about <paramref name="words"/> words of text.</summary>
    public static byte[] AnthropicMessage(int words) => Encoding.UTF8.GetBytes(
        "{\"id\":\"msg_01XFDUDYJgAACzvnptvVoYEL\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"claude-sonnet-4-5-20250929\","
        + "\"content\":[{\"type\":\"text\",\"text\":" + Quote(string.Concat(SampleText.StreamPieces(words))) + "}],"
        + "\"stop_reason\":\"end_turn\",\"stop_sequence\":null,"
        + "\"usage\":{\"input_tokens\":412,\"cache_creation_input_tokens\":0,\"cache_read_input_tokens\":0,\"output_tokens\":" + Number(words) + "}}");

    /// <summary>
    /// A typical chat request as an SDK sends it: a system prompt, a few turns (one with an image part), a tool,
    /// stream with include_usage, and sampling settings the parser must skip. About 2.5 KB.
    /// </summary>
    public static byte[] OpenAIChatRequest() => Encoding.UTF8.GetBytes(
        "{\"model\":\"gpt-4o-mini\",\"messages\":["
        + "{\"role\":\"system\",\"content\":" + Quote(SampleText.EnglishOf(700)) + "},"
        + "{\"role\":\"user\",\"content\":\"What does the meter record when a client disconnects halfway through a stream?\"},"
        + "{\"role\":\"assistant\",\"content\":" + Quote(SampleText.EnglishOf(400)) + "},"
        + "{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"And what about this chart? Is the p99 within target?\"},"
        + "{\"type\":\"image_url\",\"image_url\":{\"url\":\"https://example.com/chart.png\",\"detail\":\"low\"}}]}],"
        + "\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"get_usage\",\"description\":\"Looks up the usage records of an account.\","
        + "\"parameters\":{\"type\":\"object\",\"properties\":{\"account\":{\"type\":\"string\"},\"since\":{\"type\":\"string\",\"format\":\"date-time\"}},"
        + "\"required\":[\"account\"]}}}],"
        + "\"temperature\":0.2,\"top_p\":1,\"max_completion_tokens\":512,\"stream\":true,\"stream_options\":{\"include_usage\":true},"
        + "\"user\":\"user-1234\",\"metadata\":{\"team\":\"billing\"}}");

    /// <summary>A typical Anthropic messages request: system, a few turns, one tool, max_tokens, stream.</summary>
    public static byte[] AnthropicMessagesRequest() => Encoding.UTF8.GetBytes(
        "{\"model\":\"claude-sonnet-4-5-20250929\",\"max_tokens\":1024,\"stream\":true,"
        + "\"system\":" + Quote(SampleText.EnglishOf(700)) + ","
        + "\"messages\":[{\"role\":\"user\",\"content\":\"What does the meter record when a client disconnects halfway through a stream?\"},"
        + "{\"role\":\"assistant\",\"content\":[{\"type\":\"text\",\"text\":" + Quote(SampleText.EnglishOf(400)) + "}]},"
        + "{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"And what about p99?\"}]}],"
        + "\"tools\":[{\"name\":\"get_usage\",\"description\":\"Looks up the usage records of an account.\","
        + "\"input_schema\":{\"type\":\"object\",\"properties\":{\"account\":{\"type\":\"string\"}},\"required\":[\"account\"]}}],"
        + "\"temperature\":0.2,\"metadata\":{\"user_id\":\"user-1234\"}}");

    private static byte[] Data(string json) => Encoding.UTF8.GetBytes("data: " + json + "\n\n");

    private static byte[] Event(string name, string json) => Encoding.UTF8.GetBytes("event: " + name + "\ndata: " + json + "\n\n");

    private static string Quote(string text) => JsonSerializer.Serialize(text, RawUtf8);

    private static string Number(int value) => value.ToString(CultureInfo.InvariantCulture);
}
