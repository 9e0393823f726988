namespace MeterAgent.Emulator;

/// <summary>How the emulator behaves; bound from the "Emulator" configuration section.</summary>
public sealed class EmulatorOptions
{
    public const string SectionName = "Emulator";

    /// <summary>
    /// When set, OpenAI routes require "Authorization: Bearer {key}" and Anthropic routes "x-api-key: {key}"
    /// (or the bearer form, as Anthropic accepts OAuth tokens); otherwise 401 in that API's error shape.
    /// </summary>
    public string? RequiredApiKey { get; set; }

    /// <summary>Native output tokens when the request sets no maximum; a request's maximum can only lower it.</summary>
    public int DefaultOutputTokens { get; set; } = 64;

    /// <summary>Delay before the response headers, for every request.</summary>
    public TimeSpan Latency { get; set; }

    /// <summary>Streams: delay between the headers and the first content event.</summary>
    public TimeSpan TimeToFirstToken { get; set; }

    /// <summary>Streams: pace of content events; 0 means as fast as possible.</summary>
    public double TokensPerSecond { get; set; }

    /// <summary>Streams: native tokens carried by each content delta.</summary>
    public int TokensPerEvent { get; set; } = 1;

    /// <summary>
    /// A default fault for every request, in the syntax of the x-emulator-fault header
    /// (e.g. "error:503", "disconnect", "no-usage,malformed"); the header, when present, replaces it.
    /// </summary>
    public string? Fault { get; set; }
}
