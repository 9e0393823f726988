using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace MeterAgent.Verify.Tests;

/// <summary>
/// The log's read API as the contract describes it, served from a <see cref="LogFixture"/> directory on a real loopback
/// server: everything behind the bearer token, the statements list paged by since/limit (two per page, to make the
/// verifier page).
/// </summary>
internal sealed class ContractServer : IAsyncDisposable
{
    private const int PageSize = 2;
    private readonly WebApplication _app;

    private ContractServer(WebApplication app, string url)
    {
        _app = app;
        Url = url;
    }

    public string Url { get; }

    public static async Task<ContractServer> StartAsync(string directory, string token)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        app.Use(async (context, next) =>
        {
            if (context.Request.Headers.Authorization != $"Bearer {token}")
            {
                context.Response.StatusCode = StatusCodes.Status401Unauthorized;
                return;
            }

            await next(context);
        });
        app.MapGet("/log/statements", (long? since, int? limit) =>
        {
            var rows = JsonNode.Parse(File.ReadAllText(Path.Combine(directory, "log", "statements.json")))!["statements"]!.AsArray()
                .Where(row => row!["sequence"]!.GetValue<long>() > (since ?? 0))
                .Take(Math.Min(limit ?? 100, PageSize))
                .Select(row => row!.DeepClone())
                .ToArray();
            var next = rows.Length == 0 ? null : (long?)rows[^1]!["sequence"]!.GetValue<long>();
            return Results.Text(JsonSerializer.Serialize(new { statements = rows, next }), "application/json");
        });
        app.MapGet("/{**path}", (string path) =>
        {
            var file = Path.Combine(directory, path.Replace('/', Path.DirectorySeparatorChar));
            return path.StartsWith("log/", StringComparison.Ordinal) && File.Exists(file)
                ? Results.Bytes(File.ReadAllBytes(file))
                : Results.NotFound();
        });

        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new ContractServer(app, address.TrimEnd('/'));
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
