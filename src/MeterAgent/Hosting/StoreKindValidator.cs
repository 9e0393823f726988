using MeterAgent.Ledger.Hosting;
using Microsoft.Extensions.Options;

namespace MeterAgent.Hosting;

/// <summary>Fails start-up naming <c>Store:Kind</c> and the kinds it accepts, rather than running without a store.</summary>
public sealed class StoreKindValidator : IValidateOptions<StoreOptions>
{
    public ValidateOptionsResult Validate(string? name, StoreOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return StoreSelection.IsKnown(options.Kind)
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail(
                $"{StoreOptions.SectionName}:{nameof(StoreOptions.Kind)} must be one of {string.Join(", ", StoreSelection.KnownKinds)} (was '{options.Kind}').");
    }
}
