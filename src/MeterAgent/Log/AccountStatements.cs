using MeterAgent.Attestation.Entries;
using MeterAgent.Attestation.Statements;
using MeterAgent.Contracts.Specs;
using MeterAgent.Ledger.Statements;

namespace MeterAgent.Log;

/// <summary>
/// Which statement counted a leaf, and the account's own row in it. A contract's interval has a first statement
/// counting every leaf below its tree size, then corrections each counting the leaves between the previous one's size
/// and its own: the one that counts a leaf is the first whose tree size is above the leaf's index.
/// </summary>
internal sealed class AccountStatements(IStatementStore store, ContractCatalog catalog, LogKeys keys)
{
    public async Task<IReadOnlyList<AccountStatementView>> CountingAsync(long leafIndex, byte[] entryBytes, string accountId, CancellationToken cancellationToken)
    {
        var entry = UsageEntryEncoding.Decode(entryBytes);
        if (entry.ContractId is not { } contractId || catalog.Find(contractId) is not { } spec)
        {
            return [];
        }

        var start = StatementPass.IntervalStart(entry, spec.SettlementInterval);
        var counting = (await store.ForIntervalAsync(contractId, start, cancellationToken)).FirstOrDefault(h => h.TreeSize > leafIndex);
        if (counting is null || await store.GetEnvelopeAsync(counting.Sequence, cancellationToken) is not { } envelope)
        {
            return []; // not stated yet
        }

        var statement = keys.All.Select(key => StatementEnvelope.Open(envelope, key).Statement).FirstOrDefault(s => s is not null);
        return statement is null || !statement.Leaves.Contains(leafIndex)
            ? []
            : [new AccountStatementView(
                counting.Sequence, counting.ContractId, counting.IntervalStart, counting.IntervalEnd, counting.Amends, counting.TreeSize,
                Convert.ToHexStringLower(counting.Digest), statement.Accounts.Single(a => a.AccountId == accountId))];
    }
}
