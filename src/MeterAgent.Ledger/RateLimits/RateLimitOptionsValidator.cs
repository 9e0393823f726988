using Microsoft.Extensions.Options;

namespace MeterAgent.Ledger.RateLimits;

internal sealed class RateLimitOptionsValidator : IValidateOptions<RateLimitOptions>
{
    public ValidateOptionsResult Validate(string? name, RateLimitOptions options) =>
        options.Defaults.Problem(
            $"{RateLimitOptions.Section}:{nameof(RateLimitOptions.DefaultTokensPerMinute)}",
            $"{RateLimitOptions.Section}:{nameof(RateLimitOptions.DefaultRequestsPerMinute)}") is { } problem
            ? ValidateOptionsResult.Fail(problem.Replace("or null (no limit)", "or unset (no limit)", StringComparison.Ordinal))
            : ValidateOptionsResult.Success;
}
