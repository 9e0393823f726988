using MeterAgent.Ledger.Usage;
using MeterAgent.Metering.Surfaces;

namespace MeterAgent.Observability;

/// <summary>
/// Every label value the agent's metrics use, each from a bounded set: the names dashboards and alert rules filter on
/// (docs/observability.md). Only the values here may reach a label, never free text from a request: no prompt, key
/// or error message can become a time series.
/// </summary>
internal static class MetricLabels
{
    public const string Unknown = "unknown";
    public const string None = "none";

    private static readonly string[] StatusNames = Enum.GetValues<UsageStatus>()
        .Select(status => System.Text.Json.JsonNamingPolicy.SnakeCaseLower.ConvertName(status.ToString()))
        .ToArray();

    private static readonly string[] SurfaceNames = Enum.GetValues<ApiSurface>()
        .Where(surface => surface != ApiSurface.Unknown)
        .Select(surface => surface.Name())
        .ToArray();

    /// <summary>The surface name when it is one of the agent's surfaces, else <see cref="Unknown"/>.</summary>
    public static string Surface(string? name)
    {
        foreach (var known in SurfaceNames)
        {
            if (string.Equals(known, name, StringComparison.Ordinal))
            {
                return known;
            }
        }

        return Unknown;
    }

    /// <summary>The usage record's status as its API names it (<c>completed</c>, <c>client_aborted</c>, ...).</summary>
    public static string Status(UsageStatus status) => (uint)status < (uint)StatusNames.Length ? StatusNames[(int)status] : Unknown;

    /// <summary><c>2xx</c> .. <c>5xx</c> by the status the client received, <c>none</c> when it left before any.</summary>
    public static string StatusClass(int? httpStatus) => httpStatus switch
    {
        null => None,
        >= 200 and < 300 => "2xx",
        >= 300 and < 400 => "3xx",
        >= 400 and < 500 => "4xx",
        >= 500 and < 600 => "5xx",
        _ => Unknown,
    };

    /// <summary>The HTTP status of a refusal as label text, without formatting on the request path for the usual ones.</summary>
    public static string StatusCode(int status) => status switch
    {
        400 => "400",
        401 => "401",
        402 => "402",
        403 => "403",
        404 => "404",
        405 => "405",
        413 => "413",
        415 => "415",
        429 => "429",
        _ => status is >= 100 and < 600 ? status.ToString(System.Globalization.CultureInfo.InvariantCulture) : Unknown,
    };

    /// <summary>Why a request was refused before the upstream, as a bounded code for the <c>reason</c> label.</summary>
    public static string RefusalReason(int status) => status switch
    {
        400 => "bad_request",
        401 => "unauthorized",
        402 => "insufficient_credits",
        403 => "forbidden",
        404 => "not_found",
        405 => "method_not_allowed",
        413 => "too_large",
        415 => "unsupported_media_type",
        429 => "rate_limited",
        _ => "other",
    };
}
