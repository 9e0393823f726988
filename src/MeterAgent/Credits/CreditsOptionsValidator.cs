using Microsoft.Extensions.Options;

namespace MeterAgent.Credits;

internal sealed class CreditsOptionsValidator : IValidateOptions<CreditsOptions>
{
    public ValidateOptionsResult Validate(string? name, CreditsOptions options)
    {
        if (!options.Enabled)
        {
            return ValidateOptionsResult.Success;
        }

        var failures = new List<string>();
        if (!Directory.Exists(options.ContractsPath))
        {
            failures.Add($"{CreditsOptions.Section}:ContractsPath '{Path.GetFullPath(options.ContractsPath)}' is not a folder.");
        }

        if (options.TrustedKeysPath is { Length: > 0 } keys && !File.Exists(keys))
        {
            failures.Add($"{CreditsOptions.Section}:TrustedKeysPath '{Path.GetFullPath(keys)}' does not exist.");
        }

        if (options.DefaultMaxOutputTokens < 1)
        {
            failures.Add($"{CreditsOptions.Section}:DefaultMaxOutputTokens must be at least 1.");
        }

        if (options.ReservationTimeout < TimeSpan.FromSeconds(1))
        {
            failures.Add($"{CreditsOptions.Section}:ReservationTimeout must be at least one second.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
