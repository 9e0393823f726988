using MeterAgent.Attestation.Notes;
using Microsoft.Extensions.Options;

namespace MeterAgent.Log;

/// <summary>A bad key file, a missing read token or a bad interval stops start-up naming the setting; the key itself is never echoed.</summary>
internal sealed class LogOptionsValidator : IValidateOptions<LogOptions>
{
    public ValidateOptionsResult Validate(string? name, LogOptions options)
    {
        if (options.CheckpointInterval <= TimeSpan.Zero || options.CheckpointInterval > TimeSpan.FromHours(1))
        {
            return ValidateOptionsResult.Fail($"{LogOptions.Section}:CheckpointInterval must be more than zero and at most 01:00:00.");
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
