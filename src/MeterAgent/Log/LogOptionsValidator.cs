using System.Globalization;
using MeterAgent.Attestation.Notes;
using Microsoft.Extensions.Options;

namespace MeterAgent.Log;

/// <summary>
/// A bad key file, a bad previous key or a missing read token stops start-up naming the setting; no key is ever echoed
/// (a secret key pasted where a public one goes must not end up in a log).
/// </summary>
internal sealed class LogOptionsValidator : IValidateOptions<LogOptions>
{
    public ValidateOptionsResult Validate(string? name, LogOptions options)
    {
        if (options.StatementGrace < TimeSpan.Zero || options.StatementGrace > TimeSpan.FromDays(1))
        {
            return ValidateOptionsResult.Fail($"{LogOptions.Section}:StatementGrace must be between 00:00:00 and 1.00:00:00, not {options.StatementGrace:c}.");
        }

        if (options.CheckpointInterval <= TimeSpan.Zero || options.CheckpointInterval > TimeSpan.FromHours(1))
        {
            return ValidateOptionsResult.Fail($"{LogOptions.Section}:CheckpointInterval must be more than zero and at most 01:00:00.");
        }

        if (options.SigningKeyPath is not { Length: > 0 } path)
        {
            return options.PreviousKeys.Count == 0
                ? ValidateOptionsResult.Success
                : ValidateOptionsResult.Fail($"{LogOptions.Section}:PreviousKeys are published beside the current key: set {LogOptions.Section}:SigningKeyPath too.");
        }

        if (!File.Exists(path))
        {
            return ValidateOptionsResult.Fail($"{LogOptions.Section}:SigningKeyPath names no file ({path}).");
        }

        NoteSigner signer;
        try
        {
            signer = LogSigningKey.Load(options);
        }
        catch (FormatException ex)
        {
            return ValidateOptionsResult.Fail($"{LogOptions.Section}:SigningKeyPath ({path}) is not a usable signer key (a signed-note signer key, or Ed25519 PKCS#8 PEM): {ex.Message}");
        }

        if (ValidatePreviousKeys(options.PreviousKeys, signer) is { } problem)
        {
            return ValidateOptionsResult.Fail(problem);
        }

        return options.ReadToken is { Length: >= 16 }
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail($"{LogOptions.Section}:ReadToken must be set (16 characters at least) when the log is signed.");
    }

    /// <summary>Null when every previous key is a distinct vkey under the current key's name; else what is wrong, by index.</summary>
    private static string? ValidatePreviousKeys(List<string> previousKeys, NoteSigner current)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal) { current.Verifier.VerifierKey };
        for (var i = 0; i < previousKeys.Count; i++)
        {
            var setting = string.Create(CultureInfo.InvariantCulture, $"{LogOptions.Section}:PreviousKeys:{i}");
            var text = previousKeys[i]?.Trim() ?? string.Empty;
            if (text.StartsWith("PRIVATE+KEY+", StringComparison.Ordinal))
            {
                return $"{setting} is a signer (secret) key; list the verifier key (vkey) it was published as, and treat the secret as leaked.";
            }

            NoteVerifier verifier;
            try
            {
                verifier = NoteVerifier.Parse(text);
            }
            catch (FormatException ex)
            {
                return $"{setting} is not a signed-note verifier key: {ex.Message}";
            }

            if (verifier.Name != current.Name)
            {
                return $"{setting} is named \"{verifier.Name}\", not the log's origin \"{current.Name}\": a log keeps its name across key rotations.";
            }

            if (!seen.Add(verifier.VerifierKey))
            {
                return $"{setting} is listed twice, or is the current key.";
            }
        }

        return null;
    }
}
