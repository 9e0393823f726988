namespace MeterAgent.Metering.Surfaces;

/// <summary>An inference API surface MeterAgent meters. Recognised by route.</summary>
public enum ApiSurface
{
    Unknown = 0,
    OpenAIChatCompletions,
    OpenAICompletions,
    OpenAIResponses,
    OpenAIEmbeddings,
    AnthropicMessages,
}

/// <summary>Whose wire format (and error shape) a surface speaks.</summary>
public enum ApiFamily
{
    OpenAI,
    Anthropic,
}
