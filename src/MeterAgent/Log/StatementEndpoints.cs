using MeterAgent.ApiDocs;
using MeterAgent.Common;
using MeterAgent.Ledger.Statements;

namespace MeterAgent.Log;

/// <summary>
/// The clearing house pulls statements on the management port with its bearer token: a listing by sequence, and each
/// statement's DSSE envelope, exactly the bytes that were signed and chained.
/// </summary>
internal static class StatementEndpoints
{
    private const int DefaultLimit = 100;
    private const int MaxLimit = 1000;

    public static void MapStatements(this IEndpointRouteBuilder endpoints)
    {
        var statements = endpoints.MapGroup("/log/statements").OnManagementPort().AddEndpointFilter(LogReadAccess.RequireReadToken)
            .WithTags("statements").RequiresBearer()
            .ProducesProblem(StatusCodes.Status401Unauthorized).ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status429TooManyRequests);

        statements.MapGet("/", async (IStatementStore store, long? since, int? limit, CancellationToken ct) =>
        {
            if (since is < 0 || limit is < 1 or > MaxLimit)
            {
                return Results.Problem($"since is a sequence (0 or more) and limit is 1..{MaxLimit}.", statusCode: StatusCodes.Status400BadRequest);
            }

            var headers = await store.ListAsync(since ?? 0, limit ?? DefaultLimit, ct);
            var page = new StatementPage([.. headers.Select(StatementView.From)], headers.Count == 0 ? null : headers[^1].Sequence);
            return Results.Json(page, StatementJsonContext.Default.StatementPage);
        }).WithName("ListStatements").WithSummary("Statements by sequence, after 'since', a page at a time.")
            .Produces<StatementPage>().ProducesProblem(StatusCodes.Status400BadRequest);

        statements.MapGet("/{sequence:long}", async (long sequence, IStatementStore store, CancellationToken ct) =>
            await store.GetEnvelopeAsync(sequence, ct) is { } envelope
                ? Results.Bytes(envelope, "application/json")
                : Results.Problem($"There is no statement {sequence}.", statusCode: StatusCodes.Status404NotFound))
            .WithName("GetStatement").WithSummary("One statement's DSSE envelope: exactly the bytes that were signed and chained.")
            .Produces<object>(StatusCodes.Status200OK, "application/json");
    }
}
