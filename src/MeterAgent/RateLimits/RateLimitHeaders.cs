using System.Globalization;
using MeterAgent.Ledger.RateLimits;

namespace MeterAgent.RateLimits;

/// <summary>
/// The headers OpenAI clients read: <c>x-ratelimit-{limit,remaining,reset}-{requests,tokens}</c> (reset as a duration
/// like <c>6m0s</c>, <c>1.5s</c>, <c>20ms</c>), and on a refusal <c>retry-after</c> (whole seconds, rounded up) with
/// <c>retry-after-ms</c>. They replace any the upstream sent: the client's limits are the agent's.
/// </summary>
internal static class RateLimitHeaders
{
    public static void Write(IHeaderDictionary headers, RateLimitDecision decision)
    {
        if (decision.Requests is { } requests)
        {
            headers["x-ratelimit-limit-requests"] = Number(requests.Limit);
            headers["x-ratelimit-remaining-requests"] = Number(requests.Remaining);
            headers["x-ratelimit-reset-requests"] = Duration(requests.Reset);
        }

        if (decision.Tokens is { } tokens)
        {
            headers["x-ratelimit-limit-tokens"] = Number(tokens.Limit);
            headers["x-ratelimit-remaining-tokens"] = Number(tokens.Remaining);
            headers["x-ratelimit-reset-tokens"] = Duration(tokens.Reset);
        }

        if (!decision.Allowed && decision.RetryAfter is { } retryAfter)
        {
            var ms = (long)Math.Ceiling(retryAfter.TotalMilliseconds);
            headers.RetryAfter = Number((ms + 999) / 1000);
            headers["retry-after-ms"] = Number(ms);
        }
    }

    /// <summary>Sets the headers as the response starts, over whatever the upstream's response brought.</summary>
    public static Task WriteOnStarting(object state)
    {
        var context = (HttpContext)state;
        if (context.Features.Get<Proxy.MeteringFeature>()?.RateLimit is { } decision)
        {
            Write(context.Response.Headers, decision);
        }

        return Task.CompletedTask;
    }

    private static string Number(long value) => value.ToString(CultureInfo.InvariantCulture);

    internal static string Duration(TimeSpan span)
    {
        var ms = (long)Math.Ceiling(span.TotalMilliseconds);
        if (ms < 1000)
        {
            return Number(ms) + "ms";
        }

        var minutes = ms / 60_000;
        var seconds = ((ms % 60_000) / 1000m).ToString("0.###", CultureInfo.InvariantCulture);
        return minutes > 0 ? Number(minutes) + "m" + seconds + "s" : seconds + "s";
    }
}
