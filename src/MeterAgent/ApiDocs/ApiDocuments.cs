using MeterAgent.Common;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace MeterAgent.ApiDocs;

/// <summary>
/// The OpenAPI documents of the agent's own APIs, served on the management port at <c>/openapi/{name}.json</c> and
/// checked in under docs/openapi/ (a test fails when they differ): <c>admin</c> (the provider's /admin API),
/// <c>clearing</c> (the clearing house's: deliveries, the usage log and statements) and <c>account</c> (an account's
/// own view on the client port).
/// </summary>
internal static class ApiDocuments
{
    public const string Admin = "admin";
    public const string Clearing = "clearing";
    public const string Account = "account";

    public static readonly IReadOnlyList<string> Names = [Admin, Clearing, Account];

    public static IServiceCollection AddApiDocuments(this IServiceCollection services)
    {
        services.AddOpenApi(Admin, options => Configure(options, Admin,
            "MeterAgent admin API",
            "The provider's API on the management port: accounts, client keys, usage records, credits and rate limits. " +
            "Every operation needs MeterAgent:AdminToken as a bearer token; errors are RFC 9457 problem details.",
            path => path.StartsWith("admin/", StringComparison.Ordinal)));
        services.AddOpenApi(Clearing, options => Configure(options, Clearing,
            "MeterAgent clearing-house API",
            "The clearing house's API on the management port: signed delivery notices in, the usage log (tlog-tiles, " +
            "proofs, keys) and signed statements out. The log needs Attestation:ReadToken as a bearer token; a delivery " +
            "is authenticated by its signature. Errors are RFC 9457 problem details, with a 'code' on deliveries.",
            path => path.StartsWith("clearing/", StringComparison.Ordinal) || path.StartsWith("log/", StringComparison.Ordinal)
                || path.StartsWith(".well-known/", StringComparison.Ordinal)));
        services.AddOpenApi(Account, options => Configure(options, Account,
            "MeterAgent account API",
            "An account's own view on the client port, with its client key as the OpenAI and Anthropic SDKs send it " +
            "(Authorization: Bearer, or x-api-key): balance, usage records and proofs. Errors are in the OpenAI error " +
            "shape (the Anthropic shape when the request carries anthropic-version).",
            path => path.StartsWith("v1/meteragent/", StringComparison.Ordinal)));
        return services;
    }

    public static IEndpointRouteBuilder MapApiDocuments(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapOpenApi("/openapi/{documentName}.json").OnManagementPort();
        return endpoints;
    }

    private static void Configure(OpenApiOptions options, string name, string title, string description, Func<string, bool> includes)
    {
        options.OpenApiVersion = OpenApiSpecVersion.OpenApi3_1;
        options.ShouldInclude = api => api.RelativePath is { } path && includes(path);
        options.AddDocumentTransformer((document, _, _) =>
        {
            document.Info = new OpenApiInfo { Title = title, Version = "v1", Description = description };

            // The document is the same whichever address served it: it is checked in and compared byte for byte.
            document.Servers = [];
            document.Components ??= new OpenApiComponents();
            document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
            document.Components.SecuritySchemes["bearer"] = new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.Http,
                Scheme = "bearer",
                Description = name switch
                {
                    Admin => "MeterAgent:AdminToken.",
                    Clearing => "Attestation:ReadToken (the usage log and statements; deliveries need none).",
                    _ => "The account's client key (or send it as x-api-key).",
                },
            };
            return Task.CompletedTask;
        });
        options.AddOperationTransformer((operation, context, _) =>
        {
            // A handler's XML doc comment (a route in <c>) would otherwise stand in for the summary the endpoint declares.
            var metadata = context.Description.ActionDescriptor.EndpointMetadata;
            if (metadata.OfType<IEndpointSummaryMetadata>().LastOrDefault() is { } summary)
            {
                operation.Summary = summary.Summary;
            }

            if (metadata.OfType<BearerTokenMarker>().Any())
            {
                operation.Security = [new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference("bearer", context.Document)] = [] }];
            }

            return Task.CompletedTask;
        });
    }

    /// <summary>Endpoint metadata: the operation needs the document's bearer token.</summary>
    public sealed class BearerTokenMarker
    {
        public static readonly BearerTokenMarker Instance = new();
    }

    public static TBuilder RequiresBearer<TBuilder>(this TBuilder builder)
        where TBuilder : IEndpointConventionBuilder => builder.WithMetadata(BearerTokenMarker.Instance);

    /// <summary>Documents a response body of <paramref name="type"/> on any builder (groups included).</summary>
    public static TBuilder Returns<TBuilder>(this TBuilder builder, Type type, int status, string contentType = "application/json")
        where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(new ProducesResponseTypeMetadata(status, type, [contentType]));

    /// <summary>What every /admin operation may answer besides its own: no or a wrong token, the API off, too big, throttled.</summary>
    public static TBuilder AdminErrors<TBuilder>(this TBuilder builder)
        where TBuilder : IEndpointConventionBuilder =>
        builder.RequiresBearer()
            .ProducesProblem(StatusCodes.Status401Unauthorized).ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge).ProducesProblem(StatusCodes.Status429TooManyRequests);

    /// <summary>What every account operation may answer besides its own, in the OpenAI error shape.</summary>
    public static TBuilder AccountErrors<TBuilder>(this TBuilder builder)
        where TBuilder : IEndpointConventionBuilder =>
        builder.RequiresBearer()
            .Returns(typeof(ApiErrorResponse), StatusCodes.Status401Unauthorized)
            .Returns(typeof(ApiErrorResponse), StatusCodes.Status429TooManyRequests);
}
