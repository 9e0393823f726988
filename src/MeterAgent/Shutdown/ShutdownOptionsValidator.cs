using Microsoft.Extensions.Options;

namespace MeterAgent.Shutdown;

/// <summary>Names the key and the allowed range, so a bad drain time stops start-up rather than cutting streams early.</summary>
internal sealed class ShutdownOptionsValidator : IValidateOptions<ShutdownOptions>
{
    public ValidateOptionsResult Validate(string? name, ShutdownOptions options) =>
        options.DrainTimeout < TimeSpan.Zero || options.DrainTimeout > ShutdownOptions.MaxDrainTimeout
            ? ValidateOptionsResult.Fail(
                $"{ShutdownOptions.DrainTimeoutKey} must be between 00:00:00 and {ShutdownOptions.MaxDrainTimeout:c} (was {options.DrainTimeout:c}).")
            : ValidateOptionsResult.Success;
}
