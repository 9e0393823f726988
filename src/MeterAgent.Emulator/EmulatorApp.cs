using MeterAgent.Emulator.Anthropic;
using MeterAgent.Emulator.OpenAI;
using MeterAgent.Emulator.Pipeline;
using Microsoft.Extensions.Options;

namespace MeterAgent.Emulator;

/// <summary>Hosting entry points: a ready-made app for tests and benchmarks, or the pieces for any host.</summary>
public static class EmulatorApp
{
    /// <summary>Builds (does not start) a Kestrel app on <paramref name="urls"/>, e.g. "http://127.0.0.1:0".</summary>
    public static WebApplication Build(EmulatorOptions options, params string[] urls)
    {
        ArgumentNullException.ThrowIfNull(options);

        // Options given as an object bypass the DI validation pipeline; check them the same way here.
        var validation = new EmulatorOptionsValidator().Validate(Options.DefaultName, options);
        if (validation.Failed)
        {
            throw new OptionsValidationException(Options.DefaultName, typeof(EmulatorOptions), validation.Failures);
        }

        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls(urls);

        // The emulator is a test double: its own request logs would drown the output of what it serves.
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Services.AddEmulator();
        builder.Services.AddSingleton<IOptions<EmulatorOptions>>(Options.Create(options));
        var app = builder.Build();
        app.MapEmulator();
        return app;
    }

    /// <summary>Registers the stats, the pipeline and option validation; options themselves come from the host.</summary>
    public static IServiceCollection AddEmulator(this IServiceCollection services)
    {
        services.AddOptions<EmulatorOptions>();
        services.AddSingleton<IValidateOptions<EmulatorOptions>, EmulatorOptionsValidator>();
        services.AddSingleton<EmulatorStats>();
        services.AddSingleton<EmulatorPipeline>();
        services.ConfigureHttpJsonOptions(json => json.SerializerOptions.TypeInfoResolverChain.Insert(0, EmulatorJsonContext.Default));
        return services;
    }

    /// <summary>Maps every emulated route; options are read from DI (IOptions&lt;EmulatorOptions&gt;).</summary>
    public static IEndpointRouteBuilder MapEmulator(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        var pipeline = endpoints.ServiceProvider.GetService<EmulatorPipeline>()
            ?? ActivatorUtilities.CreateInstance<EmulatorPipeline>(endpoints.ServiceProvider);

        MapSurface(endpoints, pipeline, "/v1/chat/completions", new ChatCompletionsSurface());
        MapSurface(endpoints, pipeline, "/v1/completions", new CompletionsSurface());
        MapSurface(endpoints, pipeline, "/v1/responses", new ResponsesSurface());
        MapSurface(endpoints, pipeline, "/v1/embeddings", new EmbeddingsSurface());
        MapSurface(endpoints, pipeline, "/v1/messages", new MessagesSurface());
        endpoints.MapGet("/v1/models", ModelsEndpoint.HandleAsync);
        endpoints.MapGet("/emulator/stats", (EmulatorStats stats) => TypedResults.Json(stats, EmulatorJsonContext.Default.EmulatorStats));
        return endpoints;
    }

    private static void MapSurface(IEndpointRouteBuilder endpoints, EmulatorPipeline pipeline, string route, ApiSurface surface) =>
        endpoints.MapPost(route, context => pipeline.HandleAsync(context, surface));
}
