using Microsoft.Extensions.Options;

namespace MeterAgent.Common;

/// <summary>The hardening settings of <see cref="MeterAgentOptions"/>: the client port's TLS and the failed-auth limit.</summary>
public sealed class HardeningOptionsValidator : IValidateOptions<MeterAgentOptions>
{
    public const int MaxAuthFailureLimit = 100_000;

    public ValidateOptionsResult Validate(string? name, MeterAgentOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        if (ProxyTls.Problem(options.ProxyTls) is { } tlsProblem)
        {
            failures.Add(tlsProblem);
        }

        if (options.AuthFailureLimit is < 0 or > MaxAuthFailureLimit)
        {
            failures.Add($"{MeterAgentOptions.Section}:AuthFailureLimit must be 0 (off) to {MaxAuthFailureLimit} failed authentications a minute per address (got {options.AuthFailureLimit}).");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
