using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace MeterAgent.Ledger.Redis;

/// <summary>Names the bad key, so a misconfigured start fails with a message an operator can act on.</summary>
public sealed class RedisStoreOptionsValidator : IValidateOptions<RedisStoreOptions>
{
    public ValidateOptionsResult Validate(string? name, RedisStoreOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        const string Section = RedisStoreOptions.SectionName;

        if (string.IsNullOrWhiteSpace(options.ConnectionString))
        {
            failures.Add($"{Section}:ConnectionString must name the Redis primary or the cluster's nodes (e.g. localhost:6379).");
        }
        else
        {
            try
            {
                ConfigurationOptions.Parse(options.ConnectionString);
            }
            catch (ArgumentException ex)
            {
                failures.Add($"{Section}:ConnectionString is not a StackExchange.Redis configuration string: {ex.Message}");
            }
        }

        if (string.IsNullOrEmpty(options.KeyPrefix) || options.KeyPrefix.AsSpan().IndexOfAny('{', '}') >= 0)
        {
            failures.Add($"{Section}:KeyPrefix must be non-empty and hold no braces (default {RedisStoreOptions.DefaultKeyPrefix}; was '{options.KeyPrefix}').");
        }

        if (options.KeyCacheTtl < TimeSpan.Zero || options.KeyCacheTtl > TimeSpan.FromHours(1))
        {
            failures.Add($"{Section}:KeyCacheTtl must be between 00:00:00 and 01:00:00 (was {options.KeyCacheTtl}).");
        }

        if (options.KeyCacheCapacity < 1)
        {
            failures.Add($"{Section}:KeyCacheCapacity must be at least 1 (was {options.KeyCacheCapacity}).");
        }

        if (options.ReservationRetention < TimeSpan.FromHours(1) || options.ReservationRetention > TimeSpan.FromDays(365))
        {
            failures.Add($"{Section}:ReservationRetention must be between 01:00:00 and 365.00:00:00 (was {options.ReservationRetention}).");
        }

        if (!string.Equals(options.OutagePolicy, RedisStoreOptions.FailClosed, StringComparison.Ordinal)
            && !string.Equals(options.OutagePolicy, RedisStoreOptions.FailOpen, StringComparison.Ordinal))
        {
            failures.Add($"{Section}:OutagePolicy must be {RedisStoreOptions.FailClosed} or {RedisStoreOptions.FailOpen} (was '{options.OutagePolicy}').");
        }

        if (options.FailOpenLease < 0 || options.FailOpenLease > RedisStoreOptions.MaxFailOpenLease)
        {
            failures.Add($"{Section}:FailOpenLease must be a whole number of contract units between 0 and {RedisStoreOptions.MaxFailOpenLease} (was {options.FailOpenLease}).");
        }

        if (options.OutageRetryAfter < TimeSpan.FromSeconds(1) || options.OutageRetryAfter > TimeSpan.FromMinutes(5))
        {
            failures.Add($"{Section}:OutageRetryAfter must be between 00:00:01 and 00:05:00 (was {options.OutageRetryAfter}).");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
