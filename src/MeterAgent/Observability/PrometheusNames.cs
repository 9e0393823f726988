using System.Diagnostics.Metrics;
using System.Text;

namespace MeterAgent.Observability;

/// <summary>
/// The Prometheus name of an instrument, by OpenTelemetry's rule for Prometheus: dots and other characters become
/// <c>_</c>, the unit is appended (<c>s</c> as <c>_seconds</c>, <c>By</c> as <c>_bytes</c>; an annotation such as
/// <c>{token}</c> adds nothing) and a counter ends in <c>_total</c>. So <c>gen_ai.server.request.duration</c> (s) is
/// scraped as <c>gen_ai_server_request_duration_seconds</c> and <c>meteragent.requests</c> as
/// <c>meteragent_requests_total</c>, the names in docs/observability.md.
/// </summary>
internal static class PrometheusNames
{
    public static string Metric(Instrument instrument)
    {
        ArgumentNullException.ThrowIfNull(instrument);
        var name = Sanitize(instrument.Name);
        var suffix = instrument.Unit switch
        {
            "s" => "_seconds",
            "ms" => "_milliseconds",
            "By" => "_bytes",
            _ => string.Empty,
        };
        if (suffix.Length > 0 && !name.EndsWith(suffix, StringComparison.Ordinal))
        {
            name += suffix;
        }

        if (IsCounter(instrument) && !name.EndsWith("_total", StringComparison.Ordinal))
        {
            name += "_total";
        }

        return name;
    }

    /// <summary>A tag key as a label name: <c>gen_ai.token.type</c> is <c>gen_ai_token_type</c>.</summary>
    public static string Label(string tagKey) => Sanitize(tagKey);

    /// <summary>Counters only go up: exported as Prometheus counters (an up-down counter is a gauge).</summary>
    public static bool IsCounter(Instrument instrument) =>
        instrument.GetType() is { IsGenericType: true } type
        && (type.GetGenericTypeDefinition() == typeof(Counter<>) || type.GetGenericTypeDefinition() == typeof(ObservableCounter<>));

    public static bool IsHistogram(Instrument instrument) =>
        instrument.GetType() is { IsGenericType: true } type && type.GetGenericTypeDefinition() == typeof(Histogram<>);

    private static string Sanitize(string name)
    {
        var builder = new StringBuilder(name.Length);
        foreach (var c in name)
        {
            builder.Append(char.IsAsciiLetterOrDigit(c) || c == '_' ? char.ToLowerInvariant(c) : '_');
        }

        if (builder.Length == 0 || char.IsAsciiDigit(builder[0]))
        {
            builder.Insert(0, '_');
        }

        return builder.ToString();
    }
}
