using System.Net;
using MeterAgent.Attestation.Notes;
using MeterAgent.Attestation.Witnesses;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace MeterAgent.Verify.Witnessing;

/// <summary>What a witness server runs with.</summary>
/// <param name="Key">the witness's cosigner key (type 0x04)</param>
/// <param name="Logs">the logs it witnesses and their keys</param>
/// <param name="StateDirectory">where it keeps each log's latest cosigned checkpoint</param>
/// <param name="Listen">the address and port (0: any free port)</param>
internal sealed record WitnessServerOptions(NoteSigner Key, IReadOnlyList<WitnessedLog> Logs, string StateDirectory, IPEndPoint Listen);

/// <summary>
/// A C2SP tlog-witness over HTTP (Kestrel, minimal API): <c>POST /add-checkpoint</c> and the monitoring read
/// <c>GET /&lt;SHA-256 of the origin, hex&gt;/checkpoint</c>; both prefixes are the server's root.
/// </summary>
internal sealed partial class WitnessServer : IAsyncDisposable
{
    /// <summary>A checkpoint and 63 proof lines are a few kilobytes; anything near this is not a request.</summary>
    private const int MaxRequestBytes = 64 * 1024;

    private readonly WebApplication _app;

    private WitnessServer(WebApplication app, Witness witness, Uri url)
    {
        _app = app;
        Witness = witness;
        Url = url;
    }

    public Witness Witness { get; }

    /// <summary>The bound address, e.g. <c>http://127.0.0.1:40123/</c>: both the submission and the monitoring prefix.</summary>
    public Uri Url { get; }

    /// <param name="options">key, logs, state and address</param>
    /// <param name="logToStderr">one line per decision (and the framework's warnings) on stderr, as the tool runs it</param>
    /// <param name="cancellationToken">cancels the start</param>
    public static async Task<WitnessServer> StartAsync(WitnessServerOptions options, bool logToStderr, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        if (logToStderr)
        {
            builder.Logging
                .AddSimpleConsole(console => console.SingleLine = true)
                .AddFilter("Microsoft", LogLevel.Warning)
                .AddFilter("MeterAgent", LogLevel.Information);
            builder.Services.Configure<Microsoft.Extensions.Logging.Console.ConsoleLoggerOptions>(console => console.LogToStandardErrorThreshold = LogLevel.Trace);
        }

        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.Listen(options.Listen);
            kestrel.Limits.MaxRequestBodySize = MaxRequestBytes;
        });

        var origins = options.Logs.ToDictionary(l => FileWitnessState.OriginHash(l.Origin), l => l.Origin, StringComparer.Ordinal);
        var witness = new Witness(options.Key, options.Logs, new FileWitnessState(options.StateDirectory), TimeProvider.System);
        var app = builder.Build();
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger<WitnessServer>();

        app.MapPost("/add-checkpoint", async (HttpContext context) =>
        {
            using var body = new MemoryStream();
            await context.Request.Body.CopyToAsync(body, context.RequestAborted);
            var result = await witness.AddCheckpointAsync(body.ToArray(), context.RequestAborted);
            if (result.Status == WitnessStatus.Cosigned)
            {
                LogCosigned(logger, result.Origin!, result.TreeSize!.Value);
            }
            else
            {
                LogRefused(logger, result.HttpStatus, result.Origin ?? "-", result.TreeSize ?? -1, result.Detail);
            }

            context.Response.StatusCode = result.HttpStatus;
            context.Response.ContentType = result.ContentType;
            await context.Response.Body.WriteAsync(result.Body(), context.RequestAborted);
        });

        app.MapGet("/{originHash}/checkpoint", async (string originHash, CancellationToken aborted) =>
            origins.TryGetValue(originHash, out var origin) && await witness.LatestAsync(origin, aborted) is { } latest
                ? Results.Text(latest.Note, "text/plain; charset=utf-8")
                : Results.NotFound());

        await app.StartAsync(cancellationToken);
        var address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First();
        return new WitnessServer(app, witness, new Uri(address.EndsWith('/') ? address : address + "/"));
    }

    /// <summary>Runs until the process is asked to stop (Ctrl+C, SIGTERM) or <paramref name="cancellationToken"/> fires.</summary>
    public Task WaitForShutdownAsync(CancellationToken cancellationToken) => _app.WaitForShutdownAsync(cancellationToken);

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "cosigned {Origin} at size {TreeSize}")]
    private static partial void LogCosigned(ILogger logger, string origin, long treeSize);

    [LoggerMessage(Level = LogLevel.Warning, Message = "refused ({Status}) {Origin} at size {TreeSize}: {Detail}")]
    private static partial void LogRefused(ILogger logger, int status, string origin, long treeSize, string detail);
}
