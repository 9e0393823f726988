using System.Text;
using MeterAgent.Metering.Requests;
using MeterAgent.Metering.Surfaces;

namespace MeterAgent.Metering.Tests.Requests;

/// <summary>
/// The proxy meters and the upstream serves the same reading of a body: repeated members (readers disagree on which
/// counts) and metered members of a type the proxy would read as absent are client errors.
/// </summary>
public sealed class RequestIntegrityTests
{
    [Theory]
    [InlineData("""{"model":"m","stream":true,"stream_options":{"include_usage":false},"stream_options":{"include_usage":true}}""", "stream_options")]
    [InlineData("""{"model":"m","messages":[{"role":"user","content":"a"}],"messages":[]}""", "messages")]
    [InlineData("""{"model":"m","model":"n"}""", "model")]
    [InlineData("""{"model":"m","stream_options":{"include_usage":true,"include_usage":false}}""", "stream_options.include_usage")]
    [InlineData("""{"model":"m","messages":[{"role":"user","content":[{"type":"text","text":"a","text":"b"}]}]}""", "messages[0].content[0].text")]
    [InlineData("""{"model":"m","messages":[{"role":"user","content":"x"},{"role":"user","content":"a","content":"b"}]}""", "messages[1].content")]
    [InlineData("""{"model":"m","metadata":{"a":1,"\u0061":2}}""", "metadata.a")]
    [InlineData("""{"model":"m","x":[[{"k":1}],{"k":[1,{"d":1,"d":2}]}]}""", "x[1].k[1].d")]
    public void A_repeated_member_at_any_depth_is_rejected_naming_it(string body, string param)
    {
        var result = Parse(ApiSurface.OpenAIChatCompletions, body);

        Assert.False(result.IsValid);
        Assert.Equal(param, result.ErrorParam);
        Assert.Contains("more than once", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void The_same_name_in_sibling_and_nested_objects_is_fine()
    {
        var result = Parse(ApiSurface.OpenAIChatCompletions,
            """{"model":"m","messages":[{"role":"user","content":"a"},{"role":"user","content":"b"}],"x":{"model":{"model":1}}}""");

        Assert.True(result.IsValid, result.Error);
        Assert.Equal(["user", "a", "user", "b"], result.Request!.InputSegments);
    }

    [Fact]
    public void A_repeat_among_many_members_is_found_and_many_distinct_members_are_fine()
    {
        var members = string.Join(",", Enumerable.Range(0, 500).Select(i => $"\"k{i}\":{i}"));
        var distinct = Parse(ApiSurface.OpenAIChatCompletions, "{\"model\":\"m\",\"metadata\":{" + members + "}}");
        var repeated = Parse(ApiSurface.OpenAIChatCompletions, "{\"model\":\"m\",\"metadata\":{" + members + ",\"k250\":1}}");

        Assert.True(distinct.IsValid, distinct.Error);
        Assert.Equal("metadata.k250", repeated.ErrorParam);
    }

    [Theory]
    [InlineData("""{"model":"m","stream":"true"}""", "stream")]
    [InlineData("""{"model":"m","stream":1}""", "stream")]
    [InlineData("""{"model":"m","stream":true,"stream_options":"include_usage"}""", "stream_options")]
    [InlineData("""{"model":"m","stream":true,"stream_options":[]}""", "stream_options")]
    [InlineData("""{"model":"m","stream":true,"stream_options":{"include_usage":"true"}}""", "stream_options.include_usage")]
    [InlineData("""{"model":"m","max_tokens":-1}""", "max_tokens")]
    [InlineData("""{"model":"m","max_tokens":1.5}""", "max_tokens")]
    [InlineData("""{"model":"m","max_tokens":1.0}""", "max_tokens")]
    [InlineData("""{"model":"m","max_tokens":1e3}""", "max_tokens")]
    [InlineData("""{"model":"m","max_tokens":2147483648}""", "max_tokens")]
    [InlineData("""{"model":"m","max_tokens":99999999999999999999999}""", "max_tokens")]
    [InlineData("""{"model":"m","max_tokens":"100"}""", "max_tokens")]
    [InlineData("""{"model":"m","max_completion_tokens":-5,"max_tokens":5}""", "max_completion_tokens")]
    [InlineData("""{"model":"m","messages":"hello"}""", "messages")]
    [InlineData("""{"model":"m","messages":{"role":"user","content":"hello"}}""", "messages")]
    [InlineData("""{"model":"m","messages":["hello"]}""", "messages[0]")]
    [InlineData("""{"model":"m","messages":[{"role":"user","content":{"type":"text","text":"hello"}}]}""", "messages[0].content")]
    [InlineData("""{"model":"m","messages":[{"role":"user","content":[{"type":"text","text":42}]}]}""", "messages[0].content[0].text")]
    [InlineData("""{"model":"m","messages":[{"role":"assistant","tool_calls":{"function":{}}}]}""", "messages[0].tool_calls")]
    [InlineData("""{"model":"m","tools":{"type":"function"}}""", "tools")]
    public void Chat_metered_members_of_the_wrong_type_are_rejected_naming_them(string body, string param)
    {
        var result = Parse(ApiSurface.OpenAIChatCompletions, body);

        Assert.False(result.IsValid);
        Assert.Equal(param, result.ErrorParam);
        Assert.Contains($"'{param}'", result.Error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(ApiSurface.OpenAICompletions, """{"model":"m","prompt":{"text":"a"}}""", "prompt")]
    [InlineData(ApiSurface.OpenAICompletions, """{"model":"m","prompt":"a","suffix":1}""", "suffix")]
    [InlineData(ApiSurface.OpenAIEmbeddings, """{"model":"m","input":42}""", "input")]
    [InlineData(ApiSurface.OpenAIResponses, """{"model":"m","input":{"role":"user","content":"a"}}""", "input")]
    [InlineData(ApiSurface.OpenAIResponses, """{"model":"m","input":["a"]}""", "input[0]")]
    [InlineData(ApiSurface.OpenAIResponses, """{"model":"m","instructions":["a"]}""", "instructions")]
    [InlineData(ApiSurface.OpenAIResponses, """{"model":"m","max_output_tokens":-1}""", "max_output_tokens")]
    [InlineData(ApiSurface.AnthropicMessages, """{"model":"m","max_tokens":1.5,"messages":[]}""", "max_tokens")]
    [InlineData(ApiSurface.AnthropicMessages, """{"model":"m","system":{"text":"a"}}""", "system")]
    [InlineData(ApiSurface.AnthropicMessages, """{"model":"m","messages":[{"role":"user","content":7}]}""", "messages[0].content")]
    [InlineData(ApiSurface.AnthropicMessages, """{"model":"m","stream":"yes"}""", "stream")]
    public void Other_surfaces_metered_members_of_the_wrong_type_are_rejected(ApiSurface surface, string body, string param)
    {
        var result = Parse(surface, body);

        Assert.False(result.IsValid);
        Assert.Equal(param, result.ErrorParam);
    }

    [Theory]
    [InlineData("""{"model":"m","stream":null,"stream_options":null,"max_tokens":null,"messages":null,"tools":null}""")]
    [InlineData("""{"model":"m","stream":false,"stream_options":{"include_usage":null},"max_tokens":0}""")]
    [InlineData("""{"model":"m","max_tokens":2147483647,"messages":[{"role":"user","content":null}]}""")]
    public void Nulls_and_edge_values_are_accepted(string body)
    {
        var result = Parse(ApiSurface.OpenAIChatCompletions, body);

        Assert.True(result.IsValid, result.Error);
    }

    [Fact]
    public void Nesting_past_the_limit_is_a_client_error_and_within_it_the_usage_rewrite_does_not_throw()
    {
        var deep = Encoding.UTF8.GetBytes($$"""{"model":"m","stream":true,"x":{{new string('[', 100)}}{{new string(']', 100)}}}""");
        var tooDeep = Encoding.UTF8.GetBytes($$"""{"model":"m","x":{{new string('[', 300)}}{{new string(']', 300)}}}""");

        var parsed = RequestParser.Parse(ApiSurface.OpenAIChatCompletions, deep);
        var rewritten = StreamUsageRequest.AddIncludeUsage(deep);

        Assert.True(parsed.IsValid, parsed.Error);
        Assert.StartsWith("{\"stream_options\":{\"include_usage\":true},", Encoding.UTF8.GetString(rewritten), StringComparison.Ordinal);
        Assert.False(RequestParser.Parse(ApiSurface.OpenAIChatCompletions, tooDeep).IsValid);
    }

    [Fact]
    public void A_lone_surrogate_in_a_member_name_is_a_client_error()
    {
        var result = Parse(ApiSurface.OpenAIChatCompletions, """{"model":"m","\ud800":1}""");

        Assert.False(result.IsValid);
        Assert.Contains("lone surrogate", result.Error, StringComparison.Ordinal);
    }

    private static RequestParseResult Parse(ApiSurface surface, string body) => RequestParser.Parse(surface, Encoding.UTF8.GetBytes(body));
}
