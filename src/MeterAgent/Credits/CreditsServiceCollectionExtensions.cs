using MeterAgent.Contracts.Deliveries;
using MeterAgent.Contracts.Specs;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;

namespace MeterAgent.Credits;

internal static class CreditsServiceCollectionExtensions
{
    /// <summary>
    /// Contract specs and trusted clearing-house keys are read once at start; a bad file stops start-up naming the file
    /// and field. With credits off the catalog is empty and no key file is needed.
    /// </summary>
    public static IServiceCollection AddCredits(this IServiceCollection services)
    {
        services.AddOptions<CreditsOptions>().BindConfiguration(CreditsOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<CreditsOptions>, CreditsOptionsValidator>();
        services.AddSingleton(sp =>
        {
            var options = sp.GetRequiredService<IOptions<CreditsOptions>>().Value;
            return options.Enabled ? ContractCatalog.LoadFolder(Path.GetFullPath(options.ContractsPath)) : new ContractCatalog([]);
        });
        services.AddSingleton(sp =>
        {
            var options = sp.GetRequiredService<IOptions<CreditsOptions>>().Value;
            return options.Enabled && options.TrustedKeysPath is { Length: > 0 } path
                ? DeliveryVerifier.FromJwksFile(Path.GetFullPath(path))
                : new DeliveryVerifier(new JsonWebKeySet());
        });
        services.AddSingleton<CreditRedemption>();
        return services;
    }
}
