namespace MeterAgent.Contracts.Specs;

/// <summary>A spec file is invalid: names the file and the field, so start-up fails with something an operator can fix.</summary>
public sealed class ContractSpecException(string file, string field, string problem)
    : Exception($"Contract spec '{file}': field '{field}' {problem}")
{
    public string File { get; } = file;

    public string Field { get; } = field;
}
