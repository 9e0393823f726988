using System.Text.Json;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace MeterAgent.Health;

/// <summary>
/// The health body: the overall status and each check's status, description and duration, so an SRE sees which part
/// is not ready. Exceptions are never written (their messages and stacks stay in the log), only the descriptions.
/// </summary>
/// <example>
/// <c>{"status":"Unhealthy","duration_ms":5003.1,"checks":{"store":{"status":"Unhealthy","description":"...","duration_ms":5002.9},...}}</c>
/// </example>
internal static class HealthJson
{
    public static async Task WriteAsync(HttpContext context, HealthReport report)
    {
        context.Response.ContentType = "application/json; charset=utf-8";
        await using var json = new Utf8JsonWriter(context.Response.Body);
        json.WriteStartObject();
        json.WriteString("status", report.Status.ToString());
        json.WriteNumber("duration_ms", Math.Round(report.TotalDuration.TotalMilliseconds, 1));
        json.WriteStartObject("checks");
        foreach (var (name, entry) in report.Entries)
        {
            json.WriteStartObject(name);
            json.WriteString("status", entry.Status.ToString());
            if (entry.Description is { } description)
            {
                json.WriteString("description", description);
            }

            json.WriteNumber("duration_ms", Math.Round(entry.Duration.TotalMilliseconds, 1));
            json.WriteEndObject();
        }

        json.WriteEndObject();
        json.WriteEndObject();
        await json.FlushAsync(context.RequestAborted);
    }
}
