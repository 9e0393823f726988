using System.Text;
using System.Text.Json;
using MeterAgent.Metering.Requests;

namespace MeterAgent.Metering.Tests.Requests;

public sealed class StreamUsageRequestTests
{
    [Theory]
    [InlineData("""{"model":"m","stream":true}""", """{"stream_options":{"include_usage":true},"model":"m","stream":true}""")]
    [InlineData("{}", """{"stream_options":{"include_usage":true}}""")]
    [InlineData(""" { "model" : "m" } """, """ {"stream_options":{"include_usage":true}, "model" : "m" } """)]
    [InlineData("""{"model":"m","stream_options":{}}""", """{"model":"m","stream_options":{"include_usage":true}}""")]
    [InlineData("""{"model":"m","stream_options":{"x":1}}""", """{"model":"m","stream_options":{"include_usage":true,"x":1}}""")]
    [InlineData("""{"model":"m","stream_options":{"include_usage":false, "x":1}}""", """{"model":"m","stream_options":{"include_usage":true, "x":1}}""")]
    [InlineData("""{"model":"m","stream_options":null,"n":1}""", """{"model":"m","stream_options":{"include_usage":true},"n":1}""")]
    [InlineData("""{"a":{"stream_options":{}},"b":[1,{"include_usage":false}]}""", """{"stream_options":{"include_usage":true},"a":{"stream_options":{}},"b":[1,{"include_usage":false}]}""")]
    public void Sets_include_usage_keeping_every_other_byte(string body, string expected)
    {
        var rewritten = StreamUsageRequest.AddIncludeUsage(Encoding.UTF8.GetBytes(body));

        Assert.Equal(expected, Encoding.UTF8.GetString(rewritten));
        using var document = JsonDocument.Parse(rewritten);
        Assert.True(document.RootElement.GetProperty("stream_options").GetProperty("include_usage").GetBoolean());
    }

    [Fact]
    public void Unicode_and_escapes_stay_byte_identical()
    {
        var body = Encoding.UTF8.GetBytes("""{"messages":[{"role":"user","content":"日本 \u00e9 \"q\" 🙂"}],"model":"m"}""");
        var rewritten = StreamUsageRequest.AddIncludeUsage(body);

        var prefix = "{\"stream_options\":{\"include_usage\":true},"u8.ToArray();
        Assert.Equal(prefix, rewritten[..prefix.Length]);
        Assert.Equal(body[1..], rewritten[prefix.Length..]);
    }

    [Fact]
    public void Non_objects_are_rejected()
    {
        Assert.ThrowsAny<JsonException>(() => StreamUsageRequest.AddIncludeUsage("[1]"u8));
        Assert.ThrowsAny<JsonException>(() => StreamUsageRequest.AddIncludeUsage("{\"a\":"u8));
    }
}
