using Microsoft.Extensions.Options;

namespace MeterAgent.Ledger.Hosting;

/// <summary>
/// Names the bad key, so a misconfigured start fails with a message an operator can act on. Whether
/// <c>Store:Kind</c> names a known backend is for the host to say: only it knows the backends.
/// </summary>
public sealed class StoreOptionsValidator : IValidateOptions<StoreOptions>
{
    public ValidateOptionsResult Validate(string? name, StoreOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        const string Section = StoreOptions.SectionName;

        if (string.IsNullOrWhiteSpace(options.Kind))
        {
            failures.Add($"{Section}:Kind must name the store (default {StoreOptions.DefaultKind}).");
        }

        if (options.ReservationSweepInterval < TimeSpan.FromMilliseconds(100) || options.ReservationSweepInterval > TimeSpan.FromHours(1))
        {
            failures.Add($"{Section}:ReservationSweepInterval must be between 00:00:00.100 and 01:00:00 (was {options.ReservationSweepInterval}).");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
