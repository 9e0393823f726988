using Microsoft.Extensions.Options;

namespace MeterAgent.Hosting;

internal static class ConfigurationCheckServiceCollectionExtensions
{
    /// <summary>
    /// Registers the <see cref="ConfigurationCheck"/> over every options class with a validator registered so far: call
    /// it last, after every section and backend is registered.
    /// </summary>
    public static IServiceCollection AddConfigurationCheck(this IServiceCollection services)
    {
        var validated = services
            .Select(descriptor => descriptor.ServiceType)
            .Where(type => type.IsGenericType && type.GetGenericTypeDefinition() == typeof(IValidateOptions<>))
            .Select(type => type.GetGenericArguments()[0])
            .Distinct()
            .ToList();
        services.AddSingleton(new ConfigurationCheck(validated));
        return services;
    }
}
