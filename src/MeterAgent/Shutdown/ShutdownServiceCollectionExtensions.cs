using Microsoft.Extensions.Options;

namespace MeterAgent.Shutdown;

internal static class ShutdownServiceCollectionExtensions
{
    /// <summary>
    /// <c>MeterAgent:DrainTimeout</c>, the drain it governs, and a host shutdown timeout that covers the drain and the
    /// flush after it (raised to that; a longer one, e.g. from DOTNET_SHUTDOWNTIMEOUTSECONDS, is kept).
    /// </summary>
    public static IServiceCollection AddShutdownDrain(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<ShutdownOptions>().BindConfiguration(ShutdownOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<ShutdownOptions>, ShutdownOptionsValidator>();
        services.AddSingleton<ProxyDrain>();
        services.AddHostedService(sp => sp.GetRequiredService<ProxyDrain>());
        services.PostConfigure<HostOptions>(host =>
        {
            var needed = ShutdownOptions.ReadDrainTimeout(configuration) + ShutdownOptions.FlushMargin;
            if (host.ShutdownTimeout < needed)
            {
                host.ShutdownTimeout = needed;
            }
        });
        return services;
    }
}
