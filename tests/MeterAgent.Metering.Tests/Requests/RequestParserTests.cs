using System.Text;
using MeterAgent.Metering.Requests;
using MeterAgent.Metering.Surfaces;

namespace MeterAgent.Metering.Tests.Requests;

public sealed class RequestParserTests
{
    [Theory]
    [InlineData("{}", "'model'")]
    [InlineData("""{"model":""}""", "'model'")]
    [InlineData("""{"model":42}""", "'model'")]
    [InlineData("""{"model":null}""", "'model'")]
    public void Missing_or_empty_model_names_the_parameter(string body, string mention)
    {
        var result = Parse(ApiSurface.OpenAIChatCompletions, body);

        Assert.False(result.IsValid);
        Assert.Contains(mention, result.Error, StringComparison.Ordinal);
        Assert.Equal("model", result.ErrorParam);
    }

    [Theory]
    [InlineData("{\"model\":", "not valid JSON")]
    [InlineData("not json", "not valid JSON")]
    [InlineData("[1,2]", "must be a JSON object")]
    [InlineData("\"text\"", "must be a JSON object")]
    [InlineData("", "empty")]
    public void Malformed_bodies_are_invalid_with_a_clear_message(string body, string mention)
    {
        var result = Parse(ApiSurface.AnthropicMessages, body);

        Assert.False(result.IsValid);
        Assert.Contains(mention, result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void A_lone_surrogate_escape_is_a_client_error_not_a_crash()
    {
        var result = Parse(ApiSurface.OpenAIChatCompletions, """{"model":"m","messages":[{"role":"user","content":"bad \ud800 text"}]}""");

        Assert.False(result.IsValid);
        Assert.Contains("lone surrogate", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void Chat_completions_fields_and_canonical_input()
    {
        const string body = """
            {"model":"gpt-4o","stream":true,"stream_options":{"include_usage":true},"max_completion_tokens":256,"max_tokens":99,
             "messages":[
               {"role":"system","content":"Be brief."},
               {"role":"user","name":"alice","content":[{"type":"text","text":"What is in"},{"type":"image_url","image_url":{"url":"data:x"}},{"type":"text","text":"this image?"}]},
               {"role":"assistant","content":null,"refusal":"No.","tool_calls":[{"id":"t","type":"function","function":{"name":"look","arguments":"{\"a\":1}"}}]},
               {"role":"tool","tool_call_id":"t","content":"result <|endoftext|>"}],
             "tools":[{"type":"function","function":{"name":"look","description":"Looks.","parameters":{"type":"object", "properties":{}}}}]}
            """;
        var request = Parse(ApiSurface.OpenAIChatCompletions, body).Request!;

        Assert.Equal("gpt-4o", request.Model);
        Assert.True(request.Stream);
        Assert.True(request.ClientRequestedStreamUsage);
        Assert.Equal(256, request.MaxOutputTokens);
        Assert.True(request.HasNonTextInput);
        Assert.Equal(
            ["system", "Be brief.", "user", "alice", "What is in", "this image?", "assistant", "No.", "look", "{\"a\":1}",
             "tool", "result <|endoftext|>", "look", "Looks.", "{\"type\":\"object\", \"properties\":{}}"],
            request.InputSegments);
    }

    [Fact]
    public void Chat_completions_defaults()
    {
        var request = Parse(ApiSurface.OpenAIChatCompletions, """{"model":"m","max_tokens":7,"messages":[{"role":"user","content":"hi \u00e9"}]}""").Request!;

        Assert.False(request.Stream);
        Assert.False(request.ClientRequestedStreamUsage);
        Assert.Equal(7, request.MaxOutputTokens);
        Assert.False(request.HasNonTextInput);
        Assert.Equal(["user", "hi é"], request.InputSegments);
    }

    [Fact]
    public void Completions_prompt_strings_suffix_and_token_arrays()
    {
        var text = Parse(ApiSurface.OpenAICompletions, """{"model":"m","prompt":["a","b"],"suffix":"z","max_tokens":5}""").Request!;
        var tokens = Parse(ApiSurface.OpenAICompletions, """{"model":"m","prompt":[1,2,3]}""").Request!;

        Assert.Equal(["a", "b", "z"], text.InputSegments);
        Assert.Equal(5, text.MaxOutputTokens);
        Assert.False(text.HasNonTextInput);
        Assert.True(tokens.HasNonTextInput);
        Assert.Empty(tokens.InputSegments);
    }

    [Fact]
    public void Responses_input_items_and_tools()
    {
        const string body = """
            {"model":"gpt-4.1","instructions":"Be kind.","max_output_tokens":300,"stream":true,
             "input":[
               {"role":"user","content":"plain"},
               {"type":"message","role":"user","content":[{"type":"input_text","text":"see"},{"type":"input_image","image_url":"x"}]},
               {"type":"message","role":"assistant","content":[{"type":"output_text","text":"ok"}]},
               {"type":"function_call","call_id":"c","name":"f","arguments":"{}"},
               {"type":"function_call_output","call_id":"c","output":"42"}],
             "tools":[{"type":"function","name":"f","description":"F.","parameters":{"type":"object"}},{"type":"web_search"}]}
            """;
        var request = Parse(ApiSurface.OpenAIResponses, body).Request!;

        Assert.Equal(300, request.MaxOutputTokens);
        Assert.True(request.Stream);
        Assert.True(request.HasNonTextInput);
        Assert.Equal(["Be kind.", "user", "plain", "user", "see", "assistant", "ok", "f", "{}", "42", "f", "F.", "{\"type\":\"object\"}"], request.InputSegments);

        var simple = Parse(ApiSurface.OpenAIResponses, """{"model":"m","input":"hello"}""").Request!;
        Assert.Equal(["hello"], simple.InputSegments);
    }

    [Fact]
    public void Embeddings_input()
    {
        Assert.Equal(["one"], Parse(ApiSurface.OpenAIEmbeddings, """{"model":"e","input":"one"}""").Request!.InputSegments);
        var many = Parse(ApiSurface.OpenAIEmbeddings, """{"model":"e","input":["a","b"]}""").Request!;
        Assert.Equal(["a", "b"], many.InputSegments);
        Assert.True(Parse(ApiSurface.OpenAIEmbeddings, """{"model":"e","input":[[1,2],[3]]}""").Request!.HasNonTextInput);
    }

    [Fact]
    public void Anthropic_messages_blocks_and_tools()
    {
        const string body = """
            {"model":"claude-sonnet-4-5","max_tokens":1024,"stream":true,
             "system":[{"type":"text","text":"Sys."}],
             "messages":[
               {"role":"user","content":"Weather?"},
               {"role":"assistant","content":[{"type":"thinking","thinking":"hmm","signature":"s"},{"type":"text","text":"Checking."},{"type":"tool_use","id":"tu","name":"w","input":{"city": "Paris"}}]},
               {"role":"user","content":[{"type":"tool_result","tool_use_id":"tu","content":[{"type":"text","text":"Sunny"}]},{"type":"image","source":{"type":"base64","data":"x"}}]}],
             "tools":[{"name":"w","description":"Weather.","input_schema":{"type":"object"}}]}
            """;
        var request = Parse(ApiSurface.AnthropicMessages, body).Request!;

        Assert.Equal(1024, request.MaxOutputTokens);
        Assert.True(request.Stream);
        Assert.True(request.HasNonTextInput);
        Assert.Equal(
            ["Sys.", "user", "Weather?", "assistant", "hmm", "Checking.", "w", "{\"city\": \"Paris\"}", "user", "Sunny", "w", "Weather.", "{\"type\":\"object\"}"],
            request.InputSegments);
    }

    private static RequestParseResult Parse(ApiSurface surface, string body) => RequestParser.Parse(surface, Encoding.UTF8.GetBytes(body));
}
