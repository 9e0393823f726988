namespace MeterAgent.Metering.Requests;

/// <summary>Either a parsed request or a client error to answer with 400 in the surface's own error shape.</summary>
public readonly record struct RequestParseResult(ParsedRequest? Request, string? Error, string? ErrorParam)
{
    public bool IsValid => Request is not null;

    public static RequestParseResult Ok(ParsedRequest request) => new(request, null, null);

    public static RequestParseResult Invalid(string error, string? param = null) => new(null, error, param);
}
