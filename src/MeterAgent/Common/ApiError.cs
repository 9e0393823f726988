using System.Text.Json;
using MeterAgent.Metering.Surfaces;

namespace MeterAgent.Common;

/// <summary>
/// Errors in each API's own shape, so an SDK raises its usual typed exception:
/// OpenAI <c>{"error":{"message","type","param","code"}}</c>, Anthropic <c>{"type":"error","error":{"type","message"}}</c>.
/// </summary>
public static class ApiError
{
    public static async Task WriteAsync(HttpContext context, ApiFamily family, int status, ApiErrorKind kind, string message, string? param = null)
    {
        var response = context.Response;
        if (response.HasStarted)
        {
            // Headers are gone: the only honest signal left is to break the connection.
            context.Abort();
            return;
        }

        response.StatusCode = status;
        response.ContentType = "application/json";
        using (var writer = new Utf8JsonWriter(response.BodyWriter))
        {
            writer.WriteStartObject();
            if (family == ApiFamily.Anthropic)
            {
                writer.WriteString("type", "error");
                writer.WriteStartObject("error");
                writer.WriteString("type", AnthropicType(kind));
                writer.WriteString("message", message);
                writer.WriteEndObject();
            }
            else
            {
                writer.WriteStartObject("error");
                writer.WriteString("message", message);
                writer.WriteString("type", OpenAIType(kind));
                if (param is null)
                {
                    writer.WriteNull("param");
                }
                else
                {
                    writer.WriteString("param", param);
                }

                writer.WriteString("code", OpenAICode(kind));
                writer.WriteEndObject();
            }

            writer.WriteEndObject();
        }

        await response.BodyWriter.FlushAsync(context.RequestAborted);
    }

    /// <summary><c>retry-after</c> in whole seconds, rounded up (HTTP's form; never 0 for a wait above 0).</summary>
    public static void SetRetryAfter(HttpResponse response, TimeSpan retryAfter)
    {
        ArgumentNullException.ThrowIfNull(response);
        response.Headers.RetryAfter = ((long)Math.Ceiling(retryAfter.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>503 with <c>retry-after</c> (whole seconds): the agent cannot meter a request now, the client may retry.</summary>
    public static Task WriteUnavailableAsync(HttpContext context, ApiFamily family, TimeSpan retryAfter, string message)
    {
        if (!context.Response.HasStarted)
        {
            SetRetryAfter(context.Response, retryAfter);
        }

        return WriteAsync(context, family, StatusCodes.Status503ServiceUnavailable, ApiErrorKind.ServiceUnavailable, message);
    }

    /// <summary>Which shape to answer in when the route says nothing: Anthropic clients send anthropic-version or x-api-key.</summary>
    public static ApiFamily GuessFamily(HttpRequest request) =>
        request.Path.StartsWithSegments("/v1/messages", StringComparison.OrdinalIgnoreCase)
        || request.Headers.ContainsKey("anthropic-version")
            ? ApiFamily.Anthropic
            : ApiFamily.OpenAI;

    private static string OpenAIType(ApiErrorKind kind) => kind switch
    {
        ApiErrorKind.Authentication => "invalid_request_error",
        ApiErrorKind.InvalidRequest or ApiErrorKind.NotFound or ApiErrorKind.TooLarge or ApiErrorKind.UnsupportedMediaType => "invalid_request_error",
        ApiErrorKind.InsufficientQuota => "insufficient_quota",
        ApiErrorKind.RateLimited => "rate_limit_error",
        ApiErrorKind.UpstreamTimeout or ApiErrorKind.UpstreamUnavailable => "server_error",
        ApiErrorKind.ServiceUnavailable => "service_unavailable",
        _ => "server_error",
    };

    private static string OpenAICode(ApiErrorKind kind) => kind switch
    {
        ApiErrorKind.Authentication => "invalid_api_key",
        ApiErrorKind.InvalidRequest => "invalid_request",
        ApiErrorKind.NotFound => "unknown_url",
        ApiErrorKind.TooLarge => "request_too_large",
        ApiErrorKind.UnsupportedMediaType => "unsupported_media_type",
        ApiErrorKind.InsufficientQuota => "insufficient_quota",
        ApiErrorKind.RateLimited => "rate_limit_exceeded",
        ApiErrorKind.UpstreamTimeout => "upstream_timeout",
        ApiErrorKind.UpstreamUnavailable => "upstream_unavailable",
        ApiErrorKind.ServiceUnavailable => "service_unavailable",
        _ => "internal_error",
    };

    private static string AnthropicType(ApiErrorKind kind) => kind switch
    {
        ApiErrorKind.Authentication => "authentication_error",
        ApiErrorKind.InvalidRequest or ApiErrorKind.UnsupportedMediaType => "invalid_request_error",
        ApiErrorKind.NotFound => "not_found_error",
        ApiErrorKind.TooLarge => "request_too_large",
        ApiErrorKind.InsufficientQuota => "billing_error",
        ApiErrorKind.RateLimited => "rate_limit_error",
        ApiErrorKind.UpstreamTimeout => "timeout_error",
        ApiErrorKind.UpstreamUnavailable => "api_error",
        ApiErrorKind.ServiceUnavailable => "overloaded_error",
        _ => "api_error",
    };
}

public enum ApiErrorKind
{
    Authentication,
    InvalidRequest,
    NotFound,
    TooLarge,
    UnsupportedMediaType,
    InsufficientQuota,
    RateLimited,
    UpstreamTimeout,
    UpstreamUnavailable,

    /// <summary>The agent cannot meter now (its shared store is unreachable, or it is stopping): 503.</summary>
    ServiceUnavailable,
    Internal,
}
