using MeterAgent.Contracts.Specs;
using MeterAgent.Contracts.Units;
using MeterAgent.Ledger.Credits;
using MeterAgent.Ledger.Usage;
using Microsoft.Extensions.Options;

namespace MeterAgent.Credits;

/// <summary>
/// Reserve before, settle after: turns a metered request into ledger operations in its contract's units.
/// </summary>
internal sealed class CreditRedemption(ICreditLedger ledger, ContractCatalog catalog, IOptions<CreditsOptions> options, TimeProvider clock)
{
    private readonly CreditsOptions _options = options.Value;

    // The catalog never changes after start: which spec prices each contract (its newest version) is decided once.
    private readonly ContractSpec[] _pricing = [.. catalog.All.Where(spec => ReferenceEquals(catalog.Find(spec.Id), spec))];

    public bool Enabled => _options.Enabled;

    /// <summary>Reserves the request's estimate under every contract that covers the model; the ledger picks the lots.</summary>
    public Task<ReserveOutcome> ReserveAsync(UsageRecord record, long? maxOutputTokens, CancellationToken cancellationToken)
    {
        var model = record.RequestedModel ?? string.Empty;
        var maxOutput = maxOutputTokens ?? _options.DefaultMaxOutputTokens;
        var estimates = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var spec in _pricing)
        {
            if (spec.CoversModel(model))
            {
                estimates[spec.Id] = ContractUnits.Estimate(spec, record.ReferenceInputTokens, maxOutput);
            }
        }

        var now = clock.GetUtcNow();
        return ledger.ReserveAsync(new ReserveRequest(record.Id, record.AccountId, estimates, now, now + _options.ReservationTimeout), cancellationToken);
    }

    /// <summary>
    /// Posts what was delivered (a client that left pays for what it got), or voids the reservation when the upstream
    /// failed: the provider's failure is not the client's bill. The ledger fills the record's redemption fields and
    /// closes it in the same atomic write.
    /// </summary>
    public Task SettleAndCloseAsync(UsageRecord record, Reservation reservation)
    {
        var spec = reservation.ContractId is null ? null : catalog.Find(reservation.ContractId);
        long? units = spec is null
            ? null
            : ContractUnits.Actual(spec, new MeteredCounts(
                record.ReferenceInputTokens,
                record.ReferenceOutputTokens,
                record.NativeInputTokens,
                record.NativeCachedInputTokens,
                record.NativeCacheWriteTokens,
                record.NativeOutputTokens,
                record.NativeReasoningTokens));

        record.ContractVersion = spec?.Version;
        record.UnitsMicro = units;
        var voided = record.Status is UsageStatus.UpstreamFailed or UsageStatus.UpstreamError;
        return ledger.SettleAndCloseAsync(reservation, voided ? null : units ?? 0, record, CancellationToken.None);
    }
}
