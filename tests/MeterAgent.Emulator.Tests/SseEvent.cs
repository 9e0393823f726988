using System.Text;
using System.Text.Json;

namespace MeterAgent.Emulator.Tests;

/// <summary>One parsed server-sent event, for tests that check the raw wire format.</summary>
internal sealed record SseEvent(string? Event, string Data)
{
    public JsonElement Json => JsonDocument.Parse(Data).RootElement;

    public static IReadOnlyList<SseEvent> Parse(byte[] body)
    {
        var text = Encoding.UTF8.GetString(body);
        Assert.EndsWith("\n\n", text, StringComparison.Ordinal);
        var events = new List<SseEvent>();
        foreach (var block in text.Split("\n\n", StringSplitOptions.RemoveEmptyEntries))
        {
            string? name = null;
            string? data = null;
            foreach (var line in block.Split('\n'))
            {
                if (line.StartsWith("event: ", StringComparison.Ordinal))
                {
                    name = line["event: ".Length..];
                }
                else if (line.StartsWith("data: ", StringComparison.Ordinal))
                {
                    Assert.Null(data); // the emulator never splits data over lines
                    data = line["data: ".Length..];
                }
                else
                {
                    Assert.Fail($"Unexpected SSE line '{line}'.");
                }
            }

            Assert.NotNull(data);
            events.Add(new SseEvent(name, data));
        }

        return events;
    }
}
