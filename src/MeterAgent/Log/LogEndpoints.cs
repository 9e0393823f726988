using MeterAgent.Common;
using Microsoft.Net.Http.Headers;

namespace MeterAgent.Log;

/// <summary>
/// The usage log for the clearing house, on the management port under the tlog-tiles prefix <c>/log</c>: the
/// published checkpoint, its tiles, entry bundles and proofs behind the clearing house's bearer token, and the log's
/// public key, which anyone may read. On the client port: each account's proof of its own records.
/// </summary>
internal static class LogEndpoints
{
    public static void MapUsageLog(this IEndpointRouteBuilder endpoints)
    {
        var open = endpoints.MapGroup("/log").OnManagementPort();
        open.MapGet("/key", (LogKeys keys) => keys.Signer is { } signer
            ? Results.Text(signer.Verifier.VerifierKey + "\n", "text/plain; charset=utf-8")
            : Results.NotFound());

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
}
