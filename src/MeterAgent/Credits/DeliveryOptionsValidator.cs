using Microsoft.Extensions.Options;

namespace MeterAgent.Credits;

internal sealed class DeliveryOptionsValidator : IValidateOptions<DeliveryOptions>
{
    public ValidateOptionsResult Validate(string? name, DeliveryOptions options)
    {
        var failures = new List<string>();
        if (options.DeliveryClockSkew < TimeSpan.Zero || options.DeliveryClockSkew > TimeSpan.FromDays(1))
        {
            failures.Add($"{CreditsOptions.Section}:DeliveryClockSkew must be between 00:00:00 and 1.00:00:00.");
        }

        if (options.DeliveryMaxAge is { } maxAge && maxAge < TimeSpan.FromSeconds(1))
        {
            failures.Add($"{CreditsOptions.Section}:DeliveryMaxAge must be at least one second when set.");
        }

        if (options.ProviderId is { } id && (string.IsNullOrWhiteSpace(id) || id.Length > 256))
        {
            failures.Add($"{CreditsOptions.Section}:ProviderId must be 1-256 characters when set.");
        }

        if (options.TrustedKeysPollInterval < TimeSpan.FromMilliseconds(100))
        {
            failures.Add($"{CreditsOptions.Section}:TrustedKeysPollInterval must be at least 00:00:00.1.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
