using MeterAgent.Common;
using MeterAgent.Ledger.Accounts;
using MeterAgent.Ledger.Usage;

namespace MeterAgent.Log;

/// <summary>
/// An account's own proofs on the client port, with its client key as for <c>/v1/meteragent/balance</c>: the inclusion
/// of one of its records in the published log, and the statement that counted it (its own row of it). Another account's record is answered exactly as an unknown one, so the
/// API does not tell which usage ids exist.
/// </summary>
internal static class AccountProofs
{
    /// <summary><c>GET /v1/meteragent/log/proof/{usageId}</c>.</summary>
    public static async Task<IResult> ProveAsync(
        string usageId, HttpContext context, IAccountStore accounts, IUsageLog log, UsageLogTree tree, CheckpointPublisher publisher,
        AccountStatements statements)
    {
        if (await ClientCredentials.AuthenticateAsync(context, accounts, ApiError.GuessFamily(context.Request)) is not { } key)
        {
            return Results.Empty;
        }

        return await ProveForAsync(usageId, key.AccountId, log, tree, publisher, statements, context.RequestAborted);
    }

    /// <summary>
    /// The proof of <paramref name="usageId"/> for <paramref name="accountId"/>, already authenticated: what the account
    /// API answers and the enterprise console's <c>/console/api/proof/{usageId}</c> too, the same body and the same 404.
    /// </summary>
    public static async Task<IResult> ProveForAsync(
        string usageId, string accountId, IUsageLog log, UsageLogTree tree, CheckpointPublisher publisher, AccountStatements statements,
        CancellationToken ct)
    {
        if (!publisher.IsEnabled)
        {
            return LogReadAccess.NotPublished();
        }

        if (await log.FindAsync(usageId, ct) is not { } entry
            || entry.AccountId != accountId
            || await LogProofs.ProveAsync(entry, usageId, tree, publisher, ct) is not { } proof)
        {
            // One body for every miss, the id not echoed: the answer must not tell another account's record from none.
            return Results.Problem("No such record of this account is in the usage log (unknown, still open, or not appended yet).", statusCode: StatusCodes.Status404NotFound);
        }

        var counting = await statements.CountingAsync(entry.LeafIndex, entry.Entry, accountId, ct);
        return Results.Json(
            new AccountProofView(proof.UsageId, proof.LeafIndex, proof.TreeSize, proof.Entry, proof.Hashes, proof.Checkpoint, counting),
            LogJsonContext.Default.AccountProofView);
    }
}
