namespace MeterAgent.ApiDocs;

/// <summary>
/// The OpenAI-style error object the client port answers with (<see cref="Common.ApiError"/> writes it), as a type so
/// the account API's document can describe it: <c>{"error":{"message","type","param","code"}}</c>.
/// </summary>
internal sealed record ApiErrorResponse(ApiErrorObject Error);

/// <summary>What went wrong: <c>type</c> as OpenAI's (invalid_request_error, rate_limit_error, ...), <c>code</c> the agent's.</summary>
internal sealed record ApiErrorObject(string Message, string Type, string? Param, string Code);

/// <summary>A problem (RFC 9457) with the clearing API's machine-readable <c>code</c> (malformed, bad_signature, too_large, ...).</summary>
internal sealed record CodedProblem(string? Type, string? Title, int? Status, string? Detail, string Code);
