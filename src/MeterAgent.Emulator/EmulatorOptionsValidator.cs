using MeterAgent.Emulator.Pipeline;
using Microsoft.Extensions.Options;

namespace MeterAgent.Emulator;

/// <summary>Fails start-up with the name of the bad key rather than misbehaving on the first request.</summary>
internal sealed class EmulatorOptionsValidator : IValidateOptions<EmulatorOptions>
{
    public ValidateOptionsResult Validate(string? name, EmulatorOptions options)
    {
        var failures = new List<string>();
        const string Section = EmulatorOptions.SectionName;
        if (options.DefaultOutputTokens < 1)
        {
            failures.Add($"{Section}:{nameof(options.DefaultOutputTokens)} must be at least 1.");
        }

        if (options.TokensPerEvent < 1)
        {
            failures.Add($"{Section}:{nameof(options.TokensPerEvent)} must be at least 1.");
        }

        if (options.TokensPerSecond < 0 || !double.IsFinite(options.TokensPerSecond))
        {
            failures.Add($"{Section}:{nameof(options.TokensPerSecond)} must be a finite number of at least 0.");
        }

        if (options.Latency < TimeSpan.Zero)
        {
            failures.Add($"{Section}:{nameof(options.Latency)} must not be negative.");
        }

        if (options.TimeToFirstToken < TimeSpan.Zero)
        {
            failures.Add($"{Section}:{nameof(options.TimeToFirstToken)} must not be negative.");
        }

        if (!FaultPlan.TryParse(options.Fault, out _, out var invalid))
        {
            failures.Add($"{Section}:{nameof(options.Fault)} has an unknown fault '{invalid}'.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
