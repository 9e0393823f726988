namespace MeterAgent.WebConsole;

/// <summary>
/// The console's security headers, on every response under <c>/console</c> (pages, the proof API, assets, errors):
/// a Content-Security-Policy that allows no inline script or style and nothing from elsewhere, no framing, no MIME
/// sniffing, no referrer; pages are never stored (one shows a client key once).
/// </summary>
internal static class ConsoleHeaders
{
    public const string ContentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

    public static Task Apply(HttpContext context, RequestDelegate next)
    {
        if (context.Request.Path.StartsWithSegments(ConsoleEndpoints.Root, StringComparison.Ordinal))
        {
            context.Response.OnStarting(static state =>
            {
                var http = (HttpContext)state;
                var headers = http.Response.Headers;
                headers.ContentSecurityPolicy = ContentSecurityPolicy;
                headers.XContentTypeOptions = "nosniff";
                headers["Referrer-Policy"] = "no-referrer";
                headers.XFrameOptions = "DENY";
                if (!http.Request.Path.StartsWithSegments(ConsoleEndpoints.AssetsPath, StringComparison.Ordinal))
                {
                    headers.CacheControl = "no-store";
                    headers.Pragma = "no-cache";
                }

                return Task.CompletedTask;
            }, context);
        }

        return next(context);
    }
}
