using System.Globalization;
using System.Text;
using System.Text.Json;
using CsCheck;
using MeterAgent.Metering.Requests;
using MeterAgent.Metering.Surfaces;

namespace MeterAgent.Metering.Tests.Requests;

/// <summary>
/// Random bodies with repeated members, type-confused fields and extreme numbers: the parser either rejects a body, or
/// its reading is exactly what a last-wins JSON reader (as upstreams use) sees, and the usage rewrite of a streaming
/// chat body changes nothing but stream_options.include_usage.
/// </summary>
public sealed class RequestReadingPropertyTests
{
    private static readonly Gen<string> GenNumber = Gen.OneOf(
        Pick("0", "1", "-1", "1.0", "1.5", "1e3", "-0", "2147483647", "2147483648", "9223372036854775807",
            "99999999999999999999999", "1E-2"),
        Gen.Long.Select(value => value.ToString(CultureInfo.InvariantCulture)));

    private static readonly Gen<string> GenValue = Gen.OneOf(
        GenNumber,
        Pick("true", "false", "null", "\"true\"", "\"m\"", "\"\"", "{}", "[]", "\"x\\u0041\"",
            """{"include_usage":true}""", """{"include_usage":false,"x":1}""", """{"include_usage":"true"}""",
            """{"include_usage":true,"include_usage":false}""", """[{"role":"user","content":"hi"}]""",
            """[{"role":"user","content":{"type":"text","text":"hi"}}]""", """[{"role":"user","content":"a","content":"b"}]""",
            """[{"role":"user","content":[{"type":"text","text":7}]}]""", "\"hello\"", """["a",1]"""));

    private static readonly Gen<string> GenName = Pick(
        "model", "stream", "stream_options", "max_tokens", "max_completion_tokens", "max_output_tokens", "messages",
        "input", "prompt", "temperature", "stre\\u0061m");

    private static readonly Gen<(ApiSurface Surface, string Body)> GenBody = Gen.Select(
        Pick(ApiSurface.OpenAIChatCompletions, ApiSurface.OpenAICompletions, ApiSurface.OpenAIResponses,
            ApiSurface.AnthropicMessages, ApiSurface.OpenAIEmbeddings),
        Gen.Bool,
        Gen.Select(GenName, GenValue).Array[0, 7],
        (surface, leadWithModel, members) =>
        {
            var builder = new StringBuilder("{");
            if (leadWithModel)
            {
                builder.Append("\"model\":\"gpt\"");
            }

            foreach (var (name, value) in members)
            {
                if (builder.Length > 1)
                {
                    builder.Append(',');
                }

                builder.Append('"').Append(name).Append("\":").Append(value);
            }

            return (surface, builder.Append('}').ToString());
        });

    private static Gen<T> Pick<T>(params T[] items) => Gen.Int[0, items.Length - 1].Select(index => items[index]);

    [Fact]
    public void Accepted_bodies_read_as_a_last_wins_reader_reads_them_and_the_rewrite_keeps_them()
    {
        GenBody.Sample((surface, body) => Check(surface, body), iter: 20_000);
    }

    private static void Check(ApiSurface surface, string body)
    {
        var bytes = Encoding.UTF8.GetBytes(body);
        var result = RequestParser.Parse(surface, bytes);
        if (!result.IsValid)
        {
            Assert.False(string.IsNullOrEmpty(result.Error));
            return;
        }

        var request = result.Request!;
        using var document = JsonDocument.Parse(bytes);
        var root = document.RootElement;
        var members = Members(root);

        Assert.Equal(root.GetProperty("model").GetString(), request.Model);
        Assert.Equal(root.TryGetProperty("stream", out var stream) && stream.ValueKind == JsonValueKind.True, request.Stream);
        Assert.Equal(ExpectedMaxTokens(surface, root), request.MaxOutputTokens);

        if (surface == ApiSurface.OpenAIChatCompletions && request.Stream)
        {
            var rewritten = StreamUsageRequest.AddIncludeUsage(bytes);
            using var upstream = JsonDocument.Parse(rewritten);
            var seen = Members(upstream.RootElement);
            var options = upstream.RootElement.GetProperty("stream_options");
            Assert.True(options.GetProperty("include_usage").GetBoolean());
            Assert.Equal(members.Keys.Append("stream_options").Distinct().Order(), seen.Keys.Order());
            foreach (var (name, raw) in members)
            {
                if (name != "stream_options")
                {
                    Assert.Equal(raw, seen[name]);
                }
            }

            if (root.TryGetProperty("stream_options", out var before) && before.ValueKind == JsonValueKind.Object)
            {
                var kept = Members(before);
                var after = Members(options);
                kept.Remove("include_usage");
                after.Remove("include_usage");
                Assert.Equal(kept, after);
            }
        }
    }

    /// <summary>Every member by its unescaped name; an accepted body has each once (asserted here too).</summary>
    private static Dictionary<string, string> Members(JsonElement element)
    {
        var members = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var property in element.EnumerateObject())
        {
            Assert.True(members.TryAdd(property.Name, property.Value.GetRawText()), $"'{property.Name}' accepted twice");
        }

        return members;
    }

    /// <summary>What an upstream binds: a present, non-null max must be an int that GetInt64 reads (throws otherwise).</summary>
    private static long? ExpectedMaxTokens(ApiSurface surface, JsonElement root)
    {
        long? Read(string name)
        {
            if (!root.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
            {
                return null;
            }

            var number = value.GetInt64();
            Assert.InRange(number, 0, int.MaxValue);
            return number;
        }

        return surface switch
        {
            ApiSurface.OpenAIResponses => Read("max_output_tokens"),
            ApiSurface.OpenAIEmbeddings => null,
            ApiSurface.AnthropicMessages => Read("max_tokens"),
            _ => Read("max_completion_tokens") ?? Read("max_tokens"),
        };
    }
}
