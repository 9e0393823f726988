namespace MeterAgent.Emulator.Pipeline;

/// <summary>Which vendor's conventions (auth header, error shape) a route follows.</summary>
internal enum ApiFlavor
{
    OpenAI,
    Anthropic,
}
