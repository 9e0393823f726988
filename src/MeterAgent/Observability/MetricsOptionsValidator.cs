using Microsoft.Extensions.Options;

namespace MeterAgent.Observability;

/// <summary>Names the bad key, so a misconfigured start fails with a message an operator can act on.</summary>
internal sealed class MetricsOptionsValidator : IValidateOptions<MetricsOptions>
{
    private const int MaxCap = 10_000;

    public ValidateOptionsResult Validate(string? name, MetricsOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        const string Section = MetricsOptions.Section;
        var failures = new List<string>();
        if (options.MaxModelLabels is < 1 or > MaxCap)
        {
            failures.Add($"{Section}:MaxModelLabels must be between 1 and {MaxCap} (was {options.MaxModelLabels}).");
        }

        if (options.MaxAccountLabels is < 1 or > MaxCap)
        {
            failures.Add($"{Section}:MaxAccountLabels must be between 1 and {MaxCap} (was {options.MaxAccountLabels}).");
        }

        if (options.LedgerPollInterval < TimeSpan.FromSeconds(1) || options.LedgerPollInterval > TimeSpan.FromHours(1))
        {
            failures.Add($"{Section}:LedgerPollInterval must be between 00:00:01 and 01:00:00 (was {options.LedgerPollInterval}).");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
