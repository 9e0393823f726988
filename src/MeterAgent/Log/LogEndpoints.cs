using MeterAgent.Attestation.Notes;
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
        var open = endpoints.MapGroup("/log").OnManagementPort();
        open.MapGet("/key", (LogKeys keys) => keys.Signer is { } signer
            ? Results.Text(signer.Verifier.VerifierKey + "\n", "text/plain; charset=utf-8")
            : Results.NotFound());
        open.MapGet("/keys", Keys);
        endpoints.MapGet("/.well-known/meteragent/log-keys", Keys).OnEitherPort();

        var read = endpoints.MapGroup("/log").OnManagementPort().AddEndpointFilter(LogReadAccess.RequireReadToken);
        read.MapGet("/checkpoint", async (HttpContext context, CheckpointPublisher publisher) =>
        {
            var published = await publisher.LatestAsync(context.RequestAborted);

            // tlog-tiles: the checkpoint is mutable, so it is not cached beyond a revalidation.
            context.Response.Headers[HeaderNames.CacheControl] = "private, no-cache";
            return Results.Text(published.Note, "text/plain; charset=utf-8");
        });
        read.MapGet("/tile/{**path}", LogTiles.ServeAsync);
        read.MapGet("/proof/inclusion", LogProofs.InclusionAsync);
        read.MapGet("/proof/consistency", LogProofs.ConsistencyAsync);

        endpoints.MapGet("/v1/meteragent/log/proof/{usageId}", AccountProofs.ProveAsync);
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
