using MeterAgent.Contracts.Specs;
using Microsoft.Extensions.Options;

namespace MeterAgent.Credits;

internal static class CreditsServiceCollectionExtensions
{
    /// <summary>
    /// Contract specs and trusted clearing-house keys are read at start; a bad file stops start-up naming the file and
    /// field. The key file is then watched and reloaded (see <see cref="TrustedKeys"/>). With credits off the catalog is
    /// empty and no key file is needed.
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
        services.AddOptions<DeliveryOptions>().BindConfiguration(CreditsOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<DeliveryOptions>, DeliveryOptionsValidator>();
        services.AddSingleton<TrustedKeys>();
        services.AddHostedService(sp => sp.GetRequiredService<TrustedKeys>());

        // Resolved per use: the keys trusted at that moment (the file is reloaded when it changes).
        services.AddTransient(sp => sp.GetRequiredService<TrustedKeys>().Current);
        services.AddSingleton<CreditRedemption>();
        return services;
    }
}
