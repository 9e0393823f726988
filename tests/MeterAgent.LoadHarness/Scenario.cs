using System.Text;

namespace MeterAgent.LoadHarness;

internal enum ScenarioKind
{
    Small,
    Stream,
}

/// <summary>One request shape, sent identically to every target (only the credential differs).</summary>
internal sealed class Scenario
{
    // Streams: TTFT and pace are set per request, so the same emulator serves both scenarios.
    private const int StreamTtftMs = 20;
    private const int StreamTokensPerSecond = 1000;

    private Scenario(ScenarioKind kind, string description, byte[] body, bool stream, IReadOnlyList<KeyValuePair<string, string>> headers)
    {
        Kind = kind;
        Description = description;
        Body = body;
        Stream = stream;
        Headers = headers;
    }

    public ScenarioKind Kind { get; }

    public string Description { get; }

    public byte[] Body { get; }

    public bool Stream { get; }

    public IReadOnlyList<KeyValuePair<string, string>> Headers { get; }

    public static Scenario Create(ScenarioKind kind) => kind switch
    {
        ScenarioKind.Small => new Scenario(
            kind,
            "small non-streaming chat completion (16 output tokens, no emulated latency)",
            Encoding.UTF8.GetBytes("""
                {"model":"gpt-4o-mini","messages":[{"role":"system","content":"You are a helpful assistant."},{"role":"user","content":"Say hello in a few words, please."}],"max_tokens":16}
                """),
            stream: false,
            []),
        ScenarioKind.Stream => new Scenario(
            kind,
            $"streaming chat completion (32 content events, TTFT {StreamTtftMs} ms, {StreamTokensPerSecond} tokens/s)",
            Encoding.UTF8.GetBytes("""
                {"model":"gpt-4o-mini","messages":[{"role":"system","content":"You are a helpful assistant."},{"role":"user","content":"Tell me a short story about a meter."}],"max_tokens":32,"stream":true}
                """),
            stream: true,
            [
                new("x-emulator-ttft-ms", StreamTtftMs.ToString(System.Globalization.CultureInfo.InvariantCulture)),
                new("x-emulator-tokens-per-second", StreamTokensPerSecond.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            ]),
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };
}
