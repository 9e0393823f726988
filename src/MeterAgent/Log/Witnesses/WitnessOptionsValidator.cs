using MeterAgent.Attestation.Witnesses;
using Microsoft.Extensions.Options;

namespace MeterAgent.Log.Witnesses;

/// <summary>A witness with a bad URL or key stops start-up naming the setting, not at the first checkpoint.</summary>
internal sealed class WitnessOptionsValidator : IValidateOptions<WitnessOptions>
{
    public ValidateOptionsResult Validate(string? name, WitnessOptions options)
    {
        var failures = new List<string>();
        var keys = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < options.Witnesses.Count; i++)
        {
            var witness = options.Witnesses[i];
            var prefix = $"{WitnessOptions.Section}:Witnesses:{i}";
            if (!Uri.TryCreate(witness.Url, UriKind.Absolute, out var url) || (url.Scheme != Uri.UriSchemeHttp && url.Scheme != Uri.UriSchemeHttps))
            {
                failures.Add($"{prefix}:Url must be an absolute http or https URL (the witness's submission prefix).");
            }

            try
            {
                var key = CosignatureV1.ParseVerifier(witness.VerifierKey ?? string.Empty);
                if (!keys.Add(key.VerifierKey))
                {
                    failures.Add($"{prefix}:VerifierKey names witness {key.Name} a second time.");
                }
            }
            catch (FormatException ex)
            {
                failures.Add($"{prefix}:VerifierKey is not a witness's cosigner key (name+hash+base64 of type 0x04): {ex.Message}");
            }
        }

        if (options.WitnessTimeout <= TimeSpan.Zero)
        {
            failures.Add($"{WitnessOptions.Section}:WitnessTimeout must be positive.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
