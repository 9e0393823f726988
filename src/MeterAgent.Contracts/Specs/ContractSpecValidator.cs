using System.Text.RegularExpressions;

namespace MeterAgent.Contracts.Specs;

/// <summary>
/// The value rules every spec must meet, whether read from a file or built in code, named by the spec file's JSON field
/// paths so an operator can find the line to fix.
/// </summary>
internal static partial class ContractSpecValidator
{
    /// <summary>Spec weights and delivery quantities are at most this many decimals, so they convert to micro-units exactly.</summary>
    public const int MaxDecimals = 6;

    private const string InMemory = "(in memory)";

    public static void Validate(ContractSpec spec)
    {
        var file = spec.SourceFile ?? InMemory;

        if (spec.Id is null || !IdShape().IsMatch(spec.Id))
        {
            throw new ContractSpecException(file, "id", "must match ^[a-z0-9][a-z0-9._-]{0,63}$ (lower case, at most 64 characters).");
        }

        if (spec.Version < 1)
        {
            throw new ContractSpecException(file, "version", $"must be 1 or more, not {spec.Version}.");
        }

        ValidateModels(file, spec.EligibleModels);

        if (!Enum.IsDefined(spec.Basis))
        {
            throw new ContractSpecException(file, "unit_basis", "must be \"reference\" or \"native\".");
        }

        ValidateWeights(file, spec.Weights);

        if (spec.DeliveryStart >= spec.DeliveryEnd)
        {
            throw new ContractSpecException(file, "delivery_window.end", $"must be after delivery_window.start ({spec.DeliveryStart:O}), not {spec.DeliveryEnd:O}.");
        }

        ValidateInterval(file, spec.SettlementInterval);
    }

    /// <summary>Whether a decimal has at most <see cref="MaxDecimals"/> significant decimals (trailing zeros do not count).</summary>
    public static bool HasAtMostMaxDecimals(decimal value) => decimal.Round(value, MaxDecimals) == value;

    private static void ValidateModels(string file, IReadOnlyList<string>? models)
    {
        if (models is null || models.Count == 0)
        {
            throw new ContractSpecException(file, "eligible_models", "must name at least one model pattern.");
        }

        for (var i = 0; i < models.Count; i++)
        {
            if (string.IsNullOrWhiteSpace(models[i]))
            {
                throw new ContractSpecException(file, $"eligible_models[{i}]", "must be a non-empty model name pattern.");
            }
        }
    }

    private static void ValidateWeights(string file, TokenWeights? weights)
    {
        if (weights is null)
        {
            throw new ContractSpecException(file, "weights", "is required.");
        }

        ValidateWeight(file, "weights.input", weights.Input);
        ValidateWeight(file, "weights.cached_input", weights.CachedInput);
        ValidateWeight(file, "weights.cache_write", weights.CacheWrite);
        ValidateWeight(file, "weights.output", weights.Output);
        ValidateWeight(file, "weights.reasoning", weights.Reasoning);

        // A contract whose input and output both cost nothing delivers nothing; that is a mistake, not a product.
        if (weights.Input <= 0 && weights.Output <= 0)
        {
            throw new ContractSpecException(file, "weights", "must give input or output a weight above 0.");
        }
    }

    private static void ValidateWeight(string file, string field, decimal weight)
    {
        if (weight < 0)
        {
            throw new ContractSpecException(file, field, $"must be 0 or more, not {weight}.");
        }

        if (!HasAtMostMaxDecimals(weight))
        {
            throw new ContractSpecException(file, field, $"must have at most {MaxDecimals} decimals (whole micro-units per token), not {weight}.");
        }
    }

    private static void ValidateInterval(string file, TimeSpan interval)
    {
        // Statements close on interval boundaries counted from midnight UTC: an interval that does not divide the day
        // would drift across days and two replicas could disagree on which statement a record belongs to.
        if (interval <= TimeSpan.Zero || interval > TimeSpan.FromDays(1) || TimeSpan.FromDays(1).Ticks % interval.Ticks != 0)
        {
            throw new ContractSpecException(file, "settlement_interval", $"must be above 0, at most 1 day and divide a day evenly (e.g. \"00:15:00\"), not \"{interval:c}\".");
        }
    }

    // \z rather than $: $ also matches before a trailing newline.
    [GeneratedRegex(@"^[a-z0-9][a-z0-9._-]{0,63}\z", RegexOptions.CultureInvariant)]
    private static partial Regex IdShape();
}
