using System.Net;
using MeterAgent.Admin;
using MeterAgent.ApiDocs;
using MeterAgent.Contracts.Deliveries;
using MeterAgent.Contracts.Specs;
using MeterAgent.Counters;
using MeterAgent.Credits;
using MeterAgent.Health;
using MeterAgent.Log;
using MeterAgent.Log.Witnesses;
using MeterAgent.Observability;
using MeterAgent.Tracing;
using MeterAgent.Proxy;
using MeterAgent.Settlement;
using MeterAgent.Ledger.Outcomes;
using MeterAgent.Ledger.RateLimits;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using MeterAgent.Common;
using MeterAgent.Shutdown;
using MeterAgent.WebConsole;

namespace MeterAgent.Hosting;

/// <summary>Composition of the agent: listeners, services, and the request pipeline.</summary>
public static class MeterAgentHost
{
    /// <summary>
    /// Starts the agent and runs it until it is stopped: 0 after a stop (SIGTERM drains, README "Stopping"), or
    /// <see cref="ConfigurationCheck.InvalidExitCode"/> with one line per problem when the configuration is not usable.
    /// </summary>
    public static async Task<int> RunAsync(string[] args)
    {
        IReadOnlyList<string> problems = [];
        try
        {
            await using var app = Build(args, null, null, built =>
            {
                // Before anything is wired: a bad setting stops the start before the store is opened or a port bound.
                problems = built.Services.GetRequiredService<ConfigurationCheck>().Problems(built.Services);
                return problems.Count == 0;
            });
            if (problems.Count == 0)
            {
                await app.RunAsync();
                return 0;
            }
        }
        catch (Exception ex) when (ConfigurationCheck.Problem(ex) is { } problem)
        {
            problems = problem;
        }

        ConfigurationCheck.Report(problems, Console.Error);
        return ConfigurationCheck.InvalidExitCode;
    }

    /// <param name="args">Command line; any setting can be given as --Section:Key=value.</param>
    /// <param name="configure">Extra configuration sources, applied after appsettings and the environment (tests, demo).</param>
    /// <param name="configureServices">
    /// Services added after the agent's own, e.g. one more <see cref="ISettlementObserver"/> (observers run in the order
    /// they were registered, after the agent's).
    /// </param>
    public static WebApplication Build(string[] args, Action<IConfigurationBuilder>? configure = null, Action<IServiceCollection>? configureServices = null) =>
        Build(args, configure, configureServices, built: null);

    /// <param name="args">As for the public overload.</param>
    /// <param name="configure">As for the public overload.</param>
    /// <param name="configureServices">As for the public overload.</param>
    /// <param name="built">Called once the container is built, before anything is wired; false returns the app unwired (checks).</param>
    internal static WebApplication Build(
        string[] args, Action<IConfigurationBuilder>? configure, Action<IServiceCollection>? configureServices, Func<WebApplication, bool>? built)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            Args = args,
            ContentRootPath = AppContext.BaseDirectory,
        });
        if (configure is not null)
        {
            configure(builder.Configuration);
            builder.Configuration.AddCommandLine(args);
        }

        var agentSection = builder.Configuration.GetSection(MeterAgentOptions.Section);
        builder.Services.AddOptions<MeterAgentOptions>().BindConfiguration(MeterAgentOptions.Section).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<MeterAgentOptions>, MeterAgentOptionsValidator>();
        builder.Services.AddSingleton<IValidateOptions<MeterAgentOptions>, HardeningOptionsValidator>();
        builder.Services.AddSingleton<AuthFailureThrottle>();

        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            var options = agentSection.Get<MeterAgentOptions>() ?? new MeterAgentOptions();
            var address = IPAddress.TryParse(options.ListenAddress, out var parsed) ? parsed : IPAddress.Loopback;
            kestrel.Listen(address, options.ProxyPort, listen =>
            {
                // As for the management port: a certificate that does not load is the validator's to report.
                if (options.ProxyTls.Enabled && ProxyTls.Problem(options.ProxyTls) is null)
                {
                    listen.UseHttps(ProxyTls.Create(options.ProxyTls));
                }
            });
            kestrel.Listen(address, options.ManagementPort, listen =>
            {
                listen.Use(next => connection =>
                {
                    ManagementListener.Mark(connection);
                    return next(connection);
                });

                // A certificate that does not load is reported by the options validator, naming the key.
                if (options.ManagementTls.Enabled && ManagementTls.Problem(options.ManagementTls) is null)
                {
                    listen.UseHttps(ManagementTls.Create(options.ManagementTls));
                }
            });

            // Metered routes enforce MaxRequestBodyBytes themselves, with an answer in the API's own shape.
            kestrel.Limits.MaxRequestBodySize = Math.Max(30_000_000, options.MaxRequestBodyBytes + 1);
        });

        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddShutdownDrain(builder.Configuration);
        builder.Services.AddHostedService<StartupWarmUp>();
        builder.Services.AddStore(builder.Configuration);
        builder.Services.AddCredits();
        builder.Services.AddSingleton<ReservationKeepAlive>();
        builder.Services.AddHostedService(services => services.GetRequiredService<ReservationKeepAlive>());

        // Before the log's own registrations, which fall back to no witnesses only if none is registered here.
        builder.Services.AddWitnesses(builder.Configuration);
        builder.Services.AddOptions<LogOptions>().BindConfiguration(LogOptions.Section).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<LogOptions>, LogOptionsValidator>();
        builder.Services.AddSingleton<LogKeys>();
        builder.Services.AddSingleton<UsageLogTree>();
        builder.Services.AddSingleton<CheckpointPublisher>();
        builder.Services.AddHostedService<CheckpointSchedule>();
        builder.Services.AddSingleton<StatementPass>();
        builder.Services.AddSingleton<AccountStatements>();
        builder.Services.AddHostedService<StatementCloser>();

        // Checkpoints go out with the log's signature alone unless witnesses are configured (their registration wins).
        builder.Services.TryAddSingleton<ICheckpointWitnesses, NoCheckpointWitnesses>();

        // Every metered request ends in SettlementPipeline; observers react to each settled outcome, in this order.
        builder.Services.AddSingleton<SettlementPipeline>();
        builder.Services.AddSingleton<ISettlementObserver>(services => services.GetRequiredService<ReservationKeepAlive>());
        builder.Services.AddSingleton<ISettlementObserver, RateLimitSettlementObserver>();
        builder.Services.AddSingleton<UsageLogAppender>();
        builder.Services.AddHostedService(services => services.GetRequiredService<UsageLogAppender>());
        builder.Services.AddSingleton<ISettlementObserver>(services => services.GetRequiredService<UsageLogAppender>());
        builder.Services.AddSingleton<LiveCounterAggregator>();
        builder.Services.AddHostedService(services => services.GetRequiredService<LiveCounterAggregator>());
        builder.Services.AddSingleton<ISettlementObserver>(services => services.GetRequiredService<LiveCounterAggregator>());
        // Metrics: the instruments always; the registry, /metrics, the settlement observer and OTLP unless Metrics:Enabled=false.
        builder.Services.AddMeterAgentMetrics(builder.Configuration);
        builder.Services.AddSingleton<SettlementTracker>();
        builder.Services.AddHostedService(services => services.GetRequiredService<SettlementTracker>());
        builder.Services.AddMeterAgentHealth();
        builder.Services.AddMeterAgentTracing(builder.Configuration);
        builder.Services.AddApiDocuments();
        builder.Services.AddWebConsole(builder.Configuration);
        builder.Services.ConfigureHttpJsonOptions(json =>
        {
            // The management and account APIs speak snake_case, as the OpenAI and Anthropic APIs do.
            json.SerializerOptions.PropertyNamingPolicy = System.Text.Json.JsonNamingPolicy.SnakeCaseLower;

            // Numbers are JSON numbers on the wire, never strings (so the OpenAPI documents say "integer", not "integer or string").
            json.SerializerOptions.NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.Strict;
            json.SerializerOptions.Converters.Add(new UsageStatusJsonConverter());
            json.SerializerOptions.TypeInfoResolverChain.Insert(0, AdminJsonContext.Default);
            json.SerializerOptions.TypeInfoResolverChain.Insert(1, CreditsJsonContext.Default);
        });
        var proxy = builder.Services.AddReverseProxy()
            .LoadFromConfig(builder.Configuration.GetSection("ReverseProxy"))
            .AddTransforms(HeaderPolicy.Apply)
            .AddTransforms(UpstreamCredentialTransform.Apply);
        if (builder.Configuration.GetValue(MetricsOptions.Section + ":" + nameof(MetricsOptions.Enabled), true))
        {
            // Last, so its request stamp is the step before the send: the upstream's share of the proxy's overhead.
            proxy.AddTransforms(UpstreamTiming.Apply);
        }

        configureServices?.Invoke(builder.Services);
        builder.Services.AddConfigurationCheck();
        var app = builder.Build();
        if (built is not null && !built(app))
        {
            return app;
        }

        // First: the registry listens from here on, before anything records its start-up zeros.
        app.MapMetricsEndpoint();

        // Contract specs and trusted keys load now: a bad file stops start-up with its name and field.
        app.Services.GetRequiredService<ContractCatalog>();
        app.Services.GetRequiredService<DeliveryVerifier>();
        // The console's security headers, and its assets on both ports (the same files for either audience).
        app.UseWebConsoleAssets();

        // The console signs in and authenticates its sessions explicitly, per audience (ConsoleEndpoints), and no endpoint
        // carries authorization metadata. Left to itself, WebApplication would put UseAuthentication and UseAuthorization
        // in front of every request once the console's services exist: two middlewares with nothing to do, on every
        // proxied request (~0.5 KB and a scoped service look-up each). These are the markers their Use methods set.
        ((IApplicationBuilder)app).Properties["__AuthenticationMiddlewareSet"] = true;
        ((IApplicationBuilder)app).Properties["__AuthorizationMiddlewareSet"] = true;
        app.UseRouting();
        app.Use(KeepListenersApart);

        app.MapMeterAgentHealth();
        app.MapAdminApi();
        app.MapCredits();
        app.MapUsageLog();
        app.MapStatements();
        app.MapApiDocuments();
        app.MapWebConsole();

        app.MapReverseProxy(proxy =>
        {
            // First, so a stop refuses new requests and tracks those in flight (README, "Stopping").
            proxy.UseMiddleware<ProxyDrainMiddleware>();

            // The request's span (tracing on only) wraps metering, so the upstream call and settlement happen inside it.
            proxy.UseMeterAgentTracing();
            proxy.UseMiddleware<MeteringMiddleware>();
        });
        app.MapFallback(context => ApiError.WriteAsync(context, ApiError.GuessFamily(context.Request),
            StatusCodes.Status404NotFound, ApiErrorKind.NotFound, $"Unknown route '{context.Request.Path}'."));
        return app;
    }

    private static Task KeepListenersApart(HttpContext context, RequestDelegate next)
    {
        var onManagementPort = ManagementListener.IsManagementConnection(context);
        if (onManagementPort == ManagementListener.IsManagementEndpoint(context) || ManagementListener.IsEitherPortEndpoint(context))
        {
            return next(context);
        }

        if (onManagementPort)
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return Task.CompletedTask;
        }

        return ApiError.WriteAsync(context, ApiError.GuessFamily(context.Request), StatusCodes.Status404NotFound,
            ApiErrorKind.NotFound, $"Unknown route '{context.Request.Path}'.");
    }
}
