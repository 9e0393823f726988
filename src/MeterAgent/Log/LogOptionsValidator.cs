using MeterAgent.Attestation.Notes;
using Microsoft.Extensions.Options;

namespace MeterAgent.Log;

/// <summary>A bad key file or a missing read token stops start-up naming the key; the key itself is never echoed.</summary>
internal sealed class LogOptionsValidator : IValidateOptions<LogOptions>
{
    public ValidateOptionsResult Validate(string? name, LogOptions options)
    {
        if (options.StatementGrace < TimeSpan.Zero || options.StatementGrace > TimeSpan.FromDays(1))
        {
            return ValidateOptionsResult.Fail($"{LogOptions.Section}:StatementGrace must be between 00:00:00 and 1.00:00:00, not {options.StatementGrace:c}.");
        }

        if (options.SigningKeyPath is not { Length: > 0 } path)
        {
            return ValidateOptionsResult.Success;
        }

        if (!File.Exists(path))
        {
            return ValidateOptionsResult.Fail($"{LogOptions.Section}:SigningKeyPath names no file ({path}).");
        }

        try
        {
            _ = NoteSigner.Parse(File.ReadAllText(path).Trim());
        }
        catch (FormatException ex)
        {
            return ValidateOptionsResult.Fail($"{LogOptions.Section}:SigningKeyPath ({path}) is not a signed-note signer key: {ex.Message}");
        }

        return options.ReadToken is { Length: >= 16 }
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail($"{LogOptions.Section}:ReadToken must be set (16 characters at least) when the log is signed.");
    }
}
