using MeterAgent.Attestation.Entries;

namespace MeterAgent.Attestation.Statements;

/// <summary>The sums a statement reports, computed from its entries: one rule, used to build a statement and to verify one.</summary>
public static class StatementTotals
{
    /// <summary>Per account (ordered by id, ordinal), the entries' counts, units and quality summed.</summary>
    public static IReadOnlyList<AccountTotals> Sum(IEnumerable<UsageEntry> entries)
    {
        ArgumentNullException.ThrowIfNull(entries);
        var byAccount = new SortedDictionary<string, AccountTotals>(StringComparer.Ordinal);
        foreach (var entry in entries)
        {
            var totals = byAccount.TryGetValue(entry.AccountId, out var sofar) ? sofar : new AccountTotals { AccountId = entry.AccountId };
            byAccount[entry.AccountId] = checked(totals with
            {
                Records = totals.Records + 1,
                NativeInputTokens = totals.NativeInputTokens + (entry.NativeInputTokens ?? 0),
                NativeCachedInputTokens = totals.NativeCachedInputTokens + (entry.NativeCachedInputTokens ?? 0),
                NativeCacheWriteTokens = totals.NativeCacheWriteTokens + (entry.NativeCacheWriteTokens ?? 0),
                NativeOutputTokens = totals.NativeOutputTokens + (entry.NativeOutputTokens ?? 0),
                NativeReasoningTokens = totals.NativeReasoningTokens + (entry.NativeReasoningTokens ?? 0),
                ReferenceInputTokens = totals.ReferenceInputTokens + entry.ReferenceInputTokens,
                ReferenceOutputTokens = totals.ReferenceOutputTokens + entry.ReferenceOutputTokens,
                UnitsMicro = totals.UnitsMicro + (entry.UnitsMicro ?? 0),
                RedeemedMicro = totals.RedeemedMicro + entry.RedeemedMicro,
                OverageMicro = totals.OverageMicro + entry.OverageMicro,
                EstimatedRecords = totals.EstimatedRecords + (entry.NativeInputTokens is null ? 1 : 0),
                NonTextRecords = totals.NonTextRecords + (entry.NonTextInput ? 1 : 0),
            });
        }

        return [.. byAccount.Values];
    }
}
