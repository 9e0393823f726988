namespace MeterAgent.Contracts.Specs;

/// <summary>One futures contract as a versioned file defines it.</summary>
public sealed class ContractSpec
{
    public required string Id { get; init; }

    public required int Version { get; init; }

    /// <summary>Model name patterns ('*' any run, '?' one character, case-insensitive) whose usage this contract covers.</summary>
    public required IReadOnlyList<string> EligibleModels { get; init; }

    public required UnitBasis Basis { get; init; }

    public required TokenWeights Weights { get; init; }

    /// <summary>The contract's delivery period: every delivery's window must lie inside it.</summary>
    public required DateTimeOffset DeliveryStart { get; init; }

    public required DateTimeOffset DeliveryEnd { get; init; }

    /// <summary>How often delivered volumes are settled into a statement.</summary>
    public required TimeSpan SettlementInterval { get; init; }

    /// <summary>The file it was loaded from (for error messages and audit).</summary>
    public string? SourceFile { get; init; }

    /// <summary>Whether any eligible pattern matches the whole model name.</summary>
    public bool CoversModel(string model)
    {
        ArgumentNullException.ThrowIfNull(model);

        // Indexed loop: this runs per request per contract, and IReadOnlyList's enumerator would box.
        var patterns = EligibleModels;
        for (var i = 0; i < patterns.Count; i++)
        {
            if (ModelPattern.IsMatch(patterns[i], model))
            {
                return true;
            }
        }

        return false;
    }
}
