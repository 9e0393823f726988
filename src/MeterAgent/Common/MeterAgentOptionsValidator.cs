using Microsoft.Extensions.Options;

namespace MeterAgent.Common;

/// <summary>Fails start-up with the name of the bad key, not a stack trace later.</summary>
public sealed class MeterAgentOptionsValidator : IValidateOptions<MeterAgentOptions>
{
    public ValidateOptionsResult Validate(string? name, MeterAgentOptions options)
    {
        var failures = new List<string>();
        if (!System.Net.IPAddress.TryParse(options.ListenAddress, out _))
        {
            failures.Add($"{MeterAgentOptions.Section}:ListenAddress '{options.ListenAddress}' is not an IP address.");
        }

        if (options.ProxyPort is < 1 or > 65535)
        {
            failures.Add($"{MeterAgentOptions.Section}:ProxyPort must be 1-65535 (got {options.ProxyPort}).");
        }

        if (options.ManagementPort is < 1 or > 65535)
        {
            failures.Add($"{MeterAgentOptions.Section}:ManagementPort must be 1-65535 (got {options.ManagementPort}).");
        }

        if (options.ProxyPort == options.ManagementPort)
        {
            failures.Add($"{MeterAgentOptions.Section}:ManagementPort must differ from ProxyPort: management never shares the client port.");
        }

        if (options.AdminToken is { Length: < 16 })
        {
            failures.Add($"{MeterAgentOptions.Section}:AdminToken must be at least 16 characters.");
        }

        if (ManagementTls.Problem(options.ManagementTls) is { } tlsProblem)
        {
            failures.Add(tlsProblem);
        }

        if (options.MaxRequestBodyBytes < 1024)
        {
            failures.Add($"{MeterAgentOptions.Section}:MaxRequestBodyBytes must be at least 1024.");
        }

        foreach (var (cluster, credential) in options.Upstreams)
        {
            if (string.IsNullOrWhiteSpace(credential.ApiKey))
            {
                failures.Add($"{MeterAgentOptions.Section}:Upstreams:{cluster}:ApiKey is empty.");
            }
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
