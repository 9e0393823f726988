using Microsoft.Extensions.Options;

namespace MeterAgent.Ledger.Redis.Log;

/// <summary>Names the bad <c>Redis:*</c> log key, so a misconfigured start fails before the lease or the shipper runs.</summary>
public sealed class RedisLogOptionsValidator : IValidateOptions<RedisLogOptions>
{
    public ValidateOptionsResult Validate(string? name, RedisLogOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        const string Section = RedisLogOptions.SectionName;

        if (string.IsNullOrWhiteSpace(options.ReplicaId) || options.ReplicaId.Length > 200 || options.ReplicaId.AsSpan().IndexOfAny('{', '}') >= 0)
        {
            failures.Add($"{Section}:ReplicaId must be 1-200 characters with no braces, unique among the replicas (default: the machine name).");
        }

        if (options.LogLeaseTtl < TimeSpan.FromSeconds(1) || options.LogLeaseTtl > TimeSpan.FromMinutes(10))
        {
            failures.Add($"{Section}:LogLeaseTtl must be between 00:00:01 and 00:10:00 (was {options.LogLeaseTtl:c}).");
        }

        if (options.LogBatchSize is < 1 or > 10_000)
        {
            failures.Add($"{Section}:LogBatchSize must be between 1 and 10000 (was {options.LogBatchSize}).");
        }

        if (options.LogPollInterval < TimeSpan.FromMilliseconds(10) || options.LogPollInterval > TimeSpan.FromMinutes(1))
        {
            failures.Add($"{Section}:LogPollInterval must be between 00:00:00.010 and 00:01:00 (was {options.LogPollInterval:c}).");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
