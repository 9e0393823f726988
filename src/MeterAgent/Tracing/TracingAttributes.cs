using MeterAgent.Metering.Surfaces;

namespace MeterAgent.Tracing;

/// <summary>
/// Attribute names on the request span: the OpenTelemetry GenAI conventions where one exists, <c>meteragent.*</c> for
/// what only metering knows. Every value is a name, a number or an id: never a prompt, a completion or a key.
/// </summary>
internal static class TracingAttributes
{
    public const string OperationName = "gen_ai.operation.name";
    public const string ProviderName = "gen_ai.provider.name";
    public const string RequestModel = "gen_ai.request.model";
    public const string RequestMaxTokens = "gen_ai.request.max_tokens";
    public const string ResponseModel = "gen_ai.response.model";
    public const string InputTokens = "gen_ai.usage.input_tokens";
    public const string OutputTokens = "gen_ai.usage.output_tokens";
    public const string ErrorType = "error.type";
    public const string ServerAddress = "server.address";
    public const string ServerPort = "server.port";

    public const string UsageId = "meteragent.usage_id";
    public const string AccountId = "meteragent.account_id";
    public const string Status = "meteragent.status";
    public const string Stream = "meteragent.stream";

    /// <summary><c>native</c> when the gen_ai.usage.* counts are the upstream's, <c>reference</c> when they are the agent's own.</summary>
    public const string TokenCounts = "meteragent.token_counts";
    public const string ReferenceInputTokens = "meteragent.usage.reference_input_tokens";
    public const string ReferenceOutputTokens = "meteragent.usage.reference_output_tokens";
    public const string Contract = "meteragent.contract";
    public const string UnitsBasis = "meteragent.units_basis";

    /// <summary>An event at the first token the client received (streams and whole bodies alike).</summary>
    public const string FirstTokenEvent = "meteragent.first_token";

    /// <summary>Client-chosen strings (the model) are cut here, so a span stays a span whatever a body holds.</summary>
    public const int MaxValueLength = 256;

    /// <summary>The GenAI operation a surface performs (the conventions' well-known values).</summary>
    public static string Operation(ApiSurface surface) => surface switch
    {
        ApiSurface.OpenAICompletions => "text_completion",
        ApiSurface.OpenAIEmbeddings => "embeddings",
        _ => "chat",
    };

    /// <summary>Whose API the request speaks; the upstream behind it may be any server of that API.</summary>
    public static string Provider(ApiSurface surface) =>
        surface.Family() == ApiFamily.Anthropic ? "anthropic" : "openai";

    public static string Bounded(string value) =>
        value.Length <= MaxValueLength ? value : value[..MaxValueLength];
}
