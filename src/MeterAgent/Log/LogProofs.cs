using System.Globalization;
using MeterAgent.Ledger.Usage;
using Microsoft.AspNetCore.Mvc;

namespace MeterAgent.Log;

/// <summary>
/// Proofs per request, for readers that do not compute them from tiles: a record's inclusion by its usage id, and
/// consistency between two published sizes. Only published sizes are proved, so each proof is checked against a
/// checkpoint the reader can hold.
/// </summary>
internal static class LogProofs
{
    /// <summary><c>GET /log/proof/inclusion?usage_id=&amp;tree_size=</c>.</summary>
    public static async Task<IResult> InclusionAsync(
        [FromQuery(Name = "usage_id")] string? usageId, [FromQuery(Name = "tree_size")] string? treeSize,
        IUsageLog log, UsageLogTree tree, CheckpointPublisher publisher, CancellationToken ct)
    {
        if (string.IsNullOrEmpty(usageId))
        {
            return BadRequest("'usage_id' is required: the id of the usage record whose entry is proved.");
        }

        long? size = null;
        if (treeSize is not null)
        {
            if (!TryParseSize(treeSize, out var parsed) || parsed <= 0)
            {
                return BadRequest($"'tree_size' must be a positive integer, not '{treeSize}'.");
            }

            size = parsed;
        }

        if (await log.FindAsync(usageId, ct) is not { } entry)
        {
            return NotInLog(usageId);
        }

        if (size is not { } requested)
        {
            return await ProveAsync(entry, usageId, tree, publisher, ct) is { } proof ? Json(proof) : NotInLog(usageId);
        }

        var published = await publisher.LatestAsync(ct);
        if (requested > published.Size)
        {
            return BadRequest($"'tree_size' {requested} is beyond the published size {published.Size}.");
        }

        if (entry.LeafIndex >= requested)
        {
            return BadRequest($"Record '{usageId}' is leaf {entry.LeafIndex}: it is not in the tree of size {requested}.");
        }

        return Json(new InclusionProofView(usageId, entry.LeafIndex, requested, entry.Entry, tree.InclusionProof(entry.LeafIndex, requested), null));
    }

    /// <summary><c>GET /log/proof/consistency?from=&amp;to=</c>: 0 &lt; from ≤ to ≤ the published size.</summary>
    public static async Task<IResult> ConsistencyAsync(string? from, string? to, UsageLogTree tree, CheckpointPublisher publisher, CancellationToken ct)
    {
        var published = await publisher.LatestAsync(ct);
        if (!TryParseSize(from, out var m) || !TryParseSize(to, out var n) || m <= 0 || m > n || n > published.Size)
        {
            return BadRequest($"'from' and 'to' must be tree sizes with 0 < from <= to <= the published size ({published.Size}); got from={from ?? "(none)"}, to={to ?? "(none)"}.");
        }

        return Results.Json(new ConsistencyProofView(m, n, tree.ConsistencyProof(m, n)), LogJsonContext.Default.ConsistencyProofView);
    }

    /// <summary>
    /// The inclusion of <paramref name="entry"/> in the latest published checkpoint, publishing a new one first if the
    /// entry is newer than it; null if the published log still does not reach it.
    /// </summary>
    public static async Task<InclusionProofView?> ProveAsync(LoggedEntry entry, string usageId, UsageLogTree tree, CheckpointPublisher publisher, CancellationToken ct)
    {
        var checkpoint = await publisher.PublishAsync(entry.LeafIndex + 1, ct);
        return entry.LeafIndex < checkpoint.Size
            ? new InclusionProofView(usageId, entry.LeafIndex, checkpoint.Size, entry.Entry, tree.InclusionProof(entry.LeafIndex, checkpoint.Size), checkpoint.Note)
            : null;
    }

    public static IResult Json(InclusionProofView proof) => Results.Json(proof, LogJsonContext.Default.InclusionProofView);

    private static IResult NotInLog(string usageId) =>
        Results.Problem($"Record '{usageId}' is not in the usage log (unknown, still open, or not appended yet).", statusCode: StatusCodes.Status404NotFound);

    private static IResult BadRequest(string detail) => Results.Problem(detail, statusCode: StatusCodes.Status400BadRequest);

    private static bool TryParseSize(string? text, out long size)
    {
        size = 0;
        return text is not null && long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out size);
    }
}
