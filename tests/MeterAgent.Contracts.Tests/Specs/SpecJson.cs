using System.Text.Json.Nodes;

namespace MeterAgent.Contracts.Tests.Specs;

/// <summary>A valid spec document that each test breaks in one place.</summary>
internal static class SpecJson
{
    public const string Valid = """
        {
          "id": "o200k-std-2026q4",
          "version": 1,
          "eligible_models": ["gpt-4o*", "emu-*"],
          "unit_basis": "reference",
          "weights": { "input": 1, "cached_input": 0.1, "cache_write": 1.25, "output": 4, "reasoning": 4 },
          "delivery_window": { "start": "2026-10-01T00:00:00Z", "end": "2027-01-01T00:00:00Z" },
          "settlement_interval": "00:15:00"
        }
        """;

    /// <summary>The valid document with the member at a dotted path replaced by raw JSON, or removed when the value is null.</summary>
    public static string With(string path, string? rawJson)
    {
        var root = JsonNode.Parse(Valid)!.AsObject();
        var names = path.Split('.');
        var parent = root;
        foreach (var name in names[..^1])
        {
            parent = parent[name]!.AsObject();
        }

        if (rawJson is null)
        {
            parent.Remove(names[^1]);
        }
        else
        {
            parent[names[^1]] = JsonNode.Parse(rawJson);
        }

        return root.ToJsonString();
    }
}
