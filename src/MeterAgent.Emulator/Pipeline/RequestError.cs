namespace MeterAgent.Emulator.Pipeline;

/// <summary>An invalid request: the message and, for OpenAI's error shape, the offending parameter.</summary>
internal readonly record struct RequestError(string Message, string? Param = null);
