using System.Globalization;
using System.Text.Json;

namespace MeterAgent.Contracts.Specs;

/// <summary>Reads one spec file into a validated <see cref="ContractSpec"/>, or throws naming the file and field.</summary>
internal static class ContractSpecReader
{
    private static readonly JsonDocumentOptions StrictJson = new()
    {
        AllowTrailingCommas = false,
        CommentHandling = JsonCommentHandling.Disallow,
    };

    public static ContractSpec ReadFile(string path)
    {
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new ContractSpecException(path, "(file)", $"cannot be read: {ex.Message}");
        }

        return Read(path, bytes);
    }

    public static ContractSpec Read(string file, ReadOnlyMemory<byte> utf8Json)
    {
        var document = Deserialize(file, utf8Json);
        var window = document.DeliveryWindow ?? throw Missing(file, "delivery_window");
        var spec = new ContractSpec
        {
            Id = document.Id ?? throw Missing(file, "id"),
            Version = document.Version ?? throw Missing(file, "version"),
            EligibleModels = ReadModels(file, document.EligibleModels),
            Basis = ReadBasis(file, document.UnitBasis),
            Weights = ReadWeights(file, document.Weights),
            DeliveryStart = ReadTimestamp(file, "delivery_window.start", window.Start),
            DeliveryEnd = ReadTimestamp(file, "delivery_window.end", window.End),
            SettlementInterval = ReadInterval(file, document.SettlementInterval),
            SourceFile = file,
        };

        ContractSpecValidator.Validate(spec);
        return spec;
    }

    private static ContractSpecDocument Deserialize(string file, ReadOnlyMemory<byte> utf8Json)
    {
        // Two passes so the two kinds of error read differently: broken JSON names the line, a valid document of the
        // wrong shape names the field. A spec file is small and read once at start-up.
        JsonDocument json;
        try
        {
            json = JsonDocument.Parse(utf8Json, StrictJson);
        }
        catch (JsonException ex)
        {
            throw new ContractSpecException(file, "(json)", $"is not valid JSON at line {ex.LineNumber + 1}: {ex.Message}");
        }

        using (json)
        {
            if (json.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw new ContractSpecException(file, "(json)", "must be a JSON object.");
            }

            try
            {
                return json.RootElement.Deserialize(ContractSpecJsonContext.Default.ContractSpecDocument)
                    ?? throw new ContractSpecException(file, "(json)", "must be a JSON object.");
            }
            catch (JsonException ex)
            {
                // The serializer's own message names .NET types; the operator needs the JSON type the field takes.
                var field = FieldOf(ex.Path);
                var line = ex.LineNumber + 1;
                var problem = IsRepeated(json.RootElement, field)
                    ? $"appears more than once in its object (line {line}): which one was meant is ambiguous."
                    : ExpectedShape(field) is { } shape
                        ? $"must be {shape} (line {line})."
                        : $"is not a known field (line {line}): check its spelling against docs/contracts.md.";
                throw new ContractSpecException(file, field, problem);
            }
        }
    }

    /// <summary>"$.weights.output" → "weights.output": the same path the validation messages use.</summary>
    private static string FieldOf(string? jsonPath) => jsonPath switch
    {
        null or "$" => "(json)",
        _ when jsonPath.StartsWith("$.", StringComparison.Ordinal) => jsonPath[2..],
        _ when jsonPath.StartsWith('$') => jsonPath[1..],
        _ => jsonPath,
    };

    private static bool IsRepeated(JsonElement root, string field)
    {
        var names = field.Split('.');
        var parent = root;
        for (var i = 0; i < names.Length - 1; i++)
        {
            if (parent.ValueKind != JsonValueKind.Object || !parent.TryGetProperty(names[i], out parent))
            {
                return false;
            }
        }

        if (parent.ValueKind != JsonValueKind.Object)
        {
            return false;
        }

        var count = 0;
        foreach (var member in parent.EnumerateObject())
        {
            if (member.NameEquals(names[^1]))
            {
                count++;
            }
        }

        return count > 1;
    }

    private static string? ExpectedShape(string field) => field switch
    {
        "id" or "unit_basis" or "settlement_interval" or "delivery_window.start" or "delivery_window.end" => "a JSON string",
        "version" => "a whole JSON number",
        "eligible_models" => "a JSON array of strings",
        "weights" or "delivery_window" => "a JSON object",
        "weights.input" or "weights.cached_input" or "weights.cache_write" or "weights.output" or "weights.reasoning" => "a JSON number",
        _ when field.StartsWith("eligible_models[", StringComparison.Ordinal) => "a JSON string",
        _ => null,
    };

    private static string[] ReadModels(string file, List<string?>? models)
    {
        if (models is null)
        {
            throw Missing(file, "eligible_models");
        }

        // A null entry becomes empty so the validator reports it by index like any other empty pattern.
        var result = new string[models.Count];
        for (var i = 0; i < result.Length; i++)
        {
            result[i] = models[i] ?? string.Empty;
        }

        return result;
    }

    private static UnitBasis ReadBasis(string file, string? basis) => basis switch
    {
        null => throw Missing(file, "unit_basis"),
        "reference" => UnitBasis.Reference,
        "native" => UnitBasis.Native,
        _ => throw new ContractSpecException(file, "unit_basis", $"must be \"reference\" or \"native\", not \"{basis}\"."),
    };

    private static TokenWeights ReadWeights(string file, ContractSpecDocument.WeightsDocument? weights)
    {
        if (weights is null)
        {
            throw Missing(file, "weights");
        }

        // Every class explicitly: a weight left out must not silently price that class at 0.
        return new TokenWeights(
            weights.Input ?? throw Missing(file, "weights.input"),
            weights.CachedInput ?? throw Missing(file, "weights.cached_input"),
            weights.CacheWrite ?? throw Missing(file, "weights.cache_write"),
            weights.Output ?? throw Missing(file, "weights.output"),
            weights.Reasoning ?? throw Missing(file, "weights.reasoning"));
    }

    private static DateTimeOffset ReadTimestamp(string file, string field, string? text)
    {
        if (text is null)
        {
            throw Missing(file, field);
        }

        return Rfc3339.TryParse(text, out var value)
            ? value
            : throw new ContractSpecException(file, field, $"must be an RFC 3339 timestamp with an offset (e.g. \"2026-10-01T00:00:00Z\"), not \"{text}\".");
    }

    private static TimeSpan ReadInterval(string file, string? text)
    {
        if (text is null)
        {
            throw Missing(file, "settlement_interval");
        }

        return TimeSpan.TryParseExact(text, "c", CultureInfo.InvariantCulture, out var interval)
            ? interval
            : throw new ContractSpecException(file, "settlement_interval", $"must be a duration as [d.]hh:mm:ss (e.g. \"00:15:00\"), not \"{text}\".");
    }

    private static ContractSpecException Missing(string file, string field) => new(file, field, "is required.");
}
