using Microsoft.Extensions.Options;

namespace MeterAgent.Log.Witnesses;

public static class WitnessServiceCollectionExtensions
{
    /// <summary>
    /// The witness settings (validated at start) and, when witnesses are configured, the client that asks them to
    /// cosign. Call before the log's own registrations: they add the no-witness default only if none is registered.
    /// </summary>
    public static IServiceCollection AddWitnesses(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddOptions<WitnessOptions>().BindConfiguration(WitnessOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<WitnessOptions>, WitnessOptionsValidator>();
        if (!configuration.GetSection($"{WitnessOptions.Section}:{nameof(WitnessOptions.Witnesses)}").GetChildren().Any())
        {
            return services;
        }

        // A witness URL may carry credentials: the factory's own request logging, which writes URLs, is removed.
        services.AddHttpClient(WitnessClient.HttpClientName, http => http.MaxResponseContentBufferSize = WitnessClient.MaxAnswerBytes)
            .RemoveAllLoggers();
        services.AddSingleton<ICheckpointWitnesses, WitnessClient>();
        return services;
    }
}
