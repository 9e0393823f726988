using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace MeterAgent.Common;

/// <summary>
/// Reads an admin call's JSON body under <see cref="ManagementBody.AdminJsonLimit"/>. Minimal-API binding would answer
/// malformed JSON or a wrong type with an empty 400; an operator fixing a script needs to know which member is wrong.
/// </summary>
internal static class AdminJsonBody
{
    /// <summary>The value, or a problem to answer with; <paramref name="shape"/> is the expected body, shown in messages.</summary>
    public static async Task<(T? Value, IResult? Error)> ReadAsync<T>(HttpRequest request, JsonTypeInfo<T> typeInfo, string shape, CancellationToken cancellationToken)
        where T : class
    {
        if (!request.HasJsonContentType())
        {
            return (null, Results.Problem($"Send the body as application/json: {shape}.", statusCode: StatusCodes.Status415UnsupportedMediaType));
        }

        var body = await ManagementBody.ReadAsync(request, ManagementBody.AdminJsonLimit, cancellationToken);
        switch (body.Status)
        {
            case ManagementBodyStatus.TooLarge:
                return (null, Results.Problem($"The body is larger than {ManagementBody.AdminJsonLimit} bytes.", statusCode: StatusCodes.Status413PayloadTooLarge));
            case ManagementBodyStatus.Unreadable:
                return (null, Results.Problem("The request body could not be read (broken chunked encoding or cut short).", statusCode: StatusCodes.Status400BadRequest));
        }

        try
        {
            var value = JsonSerializer.Deserialize(body.Bytes, typeInfo);
            return value is null
                ? (null, Results.Problem($"The body must be a JSON object: {shape}.", statusCode: StatusCodes.Status400BadRequest))
                : (value, null);
        }
        catch (JsonException ex)
        {
            // The path names the member; the exception's own message names .NET types, which mean nothing to the caller.
            var where = ex.Path switch
            {
                null or "" or "$" => "The body",
                ['$', '.', .. var member] => $"'{member}'",
                var path => $"'{path}'",
            };
            return (null, Results.Problem($"{where} is not valid JSON of the expected type; expected {shape}.", statusCode: StatusCodes.Status400BadRequest));
        }
    }
}
