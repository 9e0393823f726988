using Microsoft.Extensions.Options;

namespace MeterAgent.Ledger.Sqlite;

/// <summary>Names the bad key, so a misconfigured start fails with a message an operator can act on.</summary>
public sealed class SqliteStoreOptionsValidator : IValidateOptions<SqliteStoreOptions>
{
    public ValidateOptionsResult Validate(string? name, SqliteStoreOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        const string Section = SqliteStoreOptions.SectionName;

        if (string.IsNullOrWhiteSpace(options.Path))
        {
            failures.Add($"{Section}:Path must name the database file.");
        }

        if (!Enum.IsDefined(options.Synchronous))
        {
            failures.Add($"{Section}:Synchronous must be Normal or Full (was {options.Synchronous}).");
        }

        if (options.MaxBatchSize is < 1 or > 10_000)
        {
            failures.Add($"{Section}:MaxBatchSize must be between 1 and 10000 (was {options.MaxBatchSize}).");
        }

        if (options.KeyCacheTtl < TimeSpan.Zero || options.KeyCacheTtl > TimeSpan.FromHours(1))
        {
            failures.Add($"{Section}:KeyCacheTtl must be between 00:00:00 and 01:00:00 (was {options.KeyCacheTtl}).");
        }

        if (options.KeyCacheCapacity < 1)
        {
            failures.Add($"{Section}:KeyCacheCapacity must be at least 1 (was {options.KeyCacheCapacity}).");
        }

        if (options.BusyTimeout < TimeSpan.Zero || options.BusyTimeout > TimeSpan.FromMinutes(5))
        {
            failures.Add($"{Section}:BusyTimeout must be between 00:00:00 and 00:05:00 (was {options.BusyTimeout}).");
        }

        if (options.CheckpointInterval < TimeSpan.FromMilliseconds(50) || options.CheckpointInterval > TimeSpan.FromMinutes(1))
        {
            failures.Add($"{Section}:CheckpointInterval must be between 00:00:00.050 and 00:01:00 (was {options.CheckpointInterval}).");
        }

        if (options.WalLimitBytes is < 4L * 1024 * 1024 or > 16L * 1024 * 1024 * 1024)
        {
            failures.Add($"{Section}:WalLimitBytes must be between 4194304 (4 MiB) and 17179869184 (16 GiB) (was {options.WalLimitBytes}).");
        }

        if (options.JournalSegmentBytes is < 64L * 1024 or > 1024L * 1024 * 1024)
        {
            failures.Add($"{Section}:JournalSegmentBytes must be between 65536 (64 KiB) and 1073741824 (1 GiB) (was {options.JournalSegmentBytes}).");
        }

        if (options.CloseGatherTime < TimeSpan.Zero || options.CloseGatherTime > TimeSpan.FromMilliseconds(100))
        {
            failures.Add($"{Section}:CloseGatherTime must be between 00:00:00 (off) and 00:00:00.100 (was {options.CloseGatherTime}).");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
