using MeterAgent.Attestation.Notes;
using MeterAgent.ApiDocs;
using MeterAgent.Common;
using Microsoft.Net.Http.Headers;

namespace MeterAgent.Log;

/// <summary>
/// The usage log (docs/attestation.md, "In the agent"). On the management port, under the tlog-tiles prefix
/// <c>/log</c>: the published checkpoint, tiles, entry bundles and proofs behind the clearing house's bearer token; the
/// keys for anyone. On the client port: each account's proof of its own records, and the keys.
/// </summary>
internal static class LogEndpoints
{
    public static void MapUsageLog(this IEndpointRouteBuilder endpoints)
    {
        var open = endpoints.MapGroup("/log").OnManagementPort().WithTags("log");
        open.MapGet("/key", (LogKeys keys) => keys.Signer is { } signer
            ? Results.Text(signer.Verifier.VerifierKey + "\n", "text/plain; charset=utf-8")
            : Results.NotFound())
            .WithName("GetLogKey").WithSummary("The log's current verifier key (a note vkey).")
            .Produces<string>(StatusCodes.Status200OK, "text/plain").Produces(StatusCodes.Status404NotFound);
        open.MapGet("/keys", Keys).WithName("ListLogKeys").WithSummary("Every key the log has signed with, current first.")
            .Produces<LogKeysView>().ProducesProblem(StatusCodes.Status404NotFound);
        endpoints.MapGet("/.well-known/meteragent/log-keys", Keys).OnEitherPort().WithTags("log")
            .WithName("WellKnownLogKeys").WithSummary("The log's keys, on either port.")
            .Produces<LogKeysView>().ProducesProblem(StatusCodes.Status404NotFound);

        var read = endpoints.MapGroup("/log").OnManagementPort().AddEndpointFilter(LogReadAccess.RequireReadToken)
            .WithTags("log").RequiresBearer()
            .ProducesProblem(StatusCodes.Status401Unauthorized).ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status429TooManyRequests);
        read.MapGet("/checkpoint", async (HttpContext context, CheckpointPublisher publisher) =>
        {
            var published = await publisher.LatestAsync(context.RequestAborted);

            // tlog-tiles: the checkpoint is mutable, so it is not cached beyond a revalidation.
            context.Response.Headers[HeaderNames.CacheControl] = "private, no-cache";
            return Results.Text(published.Note, "text/plain; charset=utf-8");
        }).WithName("GetCheckpoint").WithSummary("The latest published checkpoint (a signed note, C2SP tlog-checkpoint).")
            .Produces<string>(StatusCodes.Status200OK, "text/plain");
        read.MapGet("/tile/{**path}", LogTiles.ServeAsync)
            .WithName("GetTile").WithSummary("A hash tile or entry bundle (C2SP tlog-tiles), as far as the published checkpoint reaches.")
            .Produces<byte[]>(StatusCodes.Status200OK, "application/octet-stream");
        read.MapGet("/proof/inclusion", LogProofs.InclusionAsync)
            .WithName("ProveInclusion").WithSummary("A usage record's inclusion proof, by its usage id, in a published tree.")
            .Produces<InclusionProofView>().ProducesProblem(StatusCodes.Status400BadRequest);
        read.MapGet("/proof/consistency", LogProofs.ConsistencyAsync)
            .WithName("ProveConsistency").WithSummary("A consistency proof between two published tree sizes.")
            .Produces<ConsistencyProofView>().ProducesProblem(StatusCodes.Status400BadRequest);

        endpoints.MapGet("/v1/meteragent/log/proof/{usageId}", AccountProofs.ProveAsync)
            .WithTags("account").AccountErrors()
            .WithName("ProveOwnRecord").WithSummary("The inclusion proof of one of the caller's records, and the statements that counted it.")
            .Produces<AccountProofView>().ProducesProblem(StatusCodes.Status404NotFound);
    }

    /// <summary>Every key the log has signed with, current first: old keys stay listed so what they signed still verifies.</summary>
    private static IResult Keys(LogKeys keys)
    {
        if (keys.Signer is not { } signer)
        {
            return LogReadAccess.NotPublished();
        }

        var listed = keys.All.Select((key, i) => new LogKeyView(key.VerifierKey, NoteKeyId.Format(key.KeyId), Current: i == 0)).ToList();
        return Results.Json(new LogKeysView(signer.Name, signer.Verifier.VerifierKey, listed), LogJsonContext.Default.LogKeysView);
    }
}
