using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace MeterAgent.ConsoleTests;

/// <summary>
/// A stand-in for the enterprise's records page, on 127.0.0.1 (a secure context), following the console's URL and
/// markup contract: verify.js from the source tree at <c>/console/assets/verify.js</c>, a Verify button per record,
/// <c>/console/api/proof/{id}</c> relayed to the agent's <c>/v1/meteragent/log/proof/{id}</c> with the client key added
/// here (never in the page), the log keys relayed from the agent, and the console's CSP on every answer.
/// </summary>
public sealed class VerifyHarness : IAsyncDisposable
{
    public const string ContentSecurityPolicy = "default-src 'none'; script-src 'self'; connect-src 'self'";

    private readonly WebApplication _app;
    private readonly HttpClient _agent;

    private VerifyHarness(WebApplication app, HttpClient agent, string url)
    {
        _app = app;
        _agent = agent;
        Url = url;
    }

    /// <summary>The harness's root, <c>http://127.0.0.1:port/</c>.</summary>
    public string Url { get; }

    /// <summary>The usage ids the records page shows a Verify button for.</summary>
    public IReadOnlyList<string> UsageIds { get; set; } = [];

    public static string VerifyJsPath => Path.Combine(RepoRoot.Path, "src", "MeterAgent", "wwwroot", "console", "verify.js");

    /// <param name="proxyUrl">the agent's client port</param>
    /// <param name="clientKey">the account's key, added to the relayed proof requests</param>
    public static async Task<VerifyHarness> StartAsync(string proxyUrl, string clientKey)
    {
        var port = FreePort.Next();
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        var app = builder.Build();
        var agent = new HttpClient { BaseAddress = new Uri(proxyUrl), Timeout = TimeSpan.FromSeconds(30) };
        agent.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", clientKey);
        var harness = new VerifyHarness(app, agent, $"http://127.0.0.1:{port}/");

        app.Use(async (context, next) =>
        {
            context.Response.Headers.ContentSecurityPolicy = ContentSecurityPolicy;
            context.Response.Headers.XContentTypeOptions = "nosniff";
            await next(context);
        });
        app.MapGet("/console/records", harness.RecordsPage);
        app.MapGet("/console/assets/verify.js", async (HttpContext context) =>
        {
            context.Response.ContentType = "text/javascript; charset=utf-8";
            context.Response.Headers.CacheControl = "no-store";
            await context.Response.SendFileAsync(VerifyJsPath);
        });
        app.MapGet("/console/api/proof/{usageId}", (string usageId, HttpContext context) =>
            harness.RelayAsync($"v1/meteragent/log/proof/{Uri.EscapeDataString(usageId)}", context));
        app.MapGet("/.well-known/meteragent/log-keys", (HttpContext context) => harness.RelayAsync(".well-known/meteragent/log-keys", context));
        app.MapGet("/favicon.ico", () => Results.NoContent());

        await app.StartAsync();
        return harness;
    }

    private IResult RecordsPage()
    {
        var html = new StringBuilder("""
            <!doctype html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <title>Records</title>
            <meta name="meteragent-log-keys" content="/.well-known/meteragent/log-keys">
            <script type="module" src="/console/assets/verify.js"></script>
            </head>
            <body>
            <main><h1>Records</h1><ul>

            """);
        foreach (var id in UsageIds)
        {
            var e = WebUtility.HtmlEncode(id);
            html.Append(CultureInfoInvariant($"""
                <li><code>{e}</code>
                <button type="button" class="verify" data-verify-proof="/console/api/proof/{e}" data-verify-usage="{e}" data-verify-output="verify-{e}">Verify</button>
                <output id="verify-{e}" aria-live="polite"></output></li>

                """));
        }

        html.Append("</ul></main>\n</body>\n</html>\n");
        return Results.Content(html.ToString(), "text/html; charset=utf-8");
    }

    private static string CultureInfoInvariant(FormattableString text) => FormattableString.Invariant(text);

    /// <summary>Passes the agent's answer through as it came: status, content type and body.</summary>
    private async Task RelayAsync(string path, HttpContext context)
    {
        using var response = await _agent.GetAsync(path, context.RequestAborted);
        context.Response.StatusCode = (int)response.StatusCode;
        context.Response.ContentType = response.Content.Headers.ContentType?.ToString() ?? "application/octet-stream";
        context.Response.Headers.CacheControl = "no-store";
        await response.Content.CopyToAsync(context.Response.Body, context.RequestAborted);
    }

    public async ValueTask DisposeAsync()
    {
        _agent.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
