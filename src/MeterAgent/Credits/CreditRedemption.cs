using MeterAgent.Contracts.Specs;
using MeterAgent.Contracts.Units;
using MeterAgent.Ledger.Credits;
using MeterAgent.Ledger.Usage;
using MeterAgent.Observability;
using Microsoft.Extensions.Options;

namespace MeterAgent.Credits;

/// <summary>
/// Reserve before, settle after: turns a metered request into ledger operations in its contract's units.
/// </summary>
internal sealed class CreditRedemption
{
    private readonly ICreditLedger _ledger;
    private readonly ContractCatalog _catalog;
    private readonly ReservationKeepAlive _keepAlive;
    private readonly MeterAgentMetrics _metrics;
    private readonly TimeProvider _clock;
    private readonly Proxy.SettlementTracker _settlements;
    private readonly CreditsOptions _options;

    // The catalog never changes after start: which spec prices each contract (its newest version) is decided once.
    private readonly ContractSpec[] _pricing;

    public CreditRedemption(
        ICreditLedger ledger, ContractCatalog catalog, ReservationKeepAlive keepAlive, MeterAgentMetrics metrics,
        IOptions<CreditsOptions> options, TimeProvider clock, Proxy.SettlementTracker settlements)
    {
        _settlements = settlements;
        _ledger = ledger;
        _catalog = catalog;
        _keepAlive = keepAlive;
        _metrics = metrics;
        _clock = clock;
        _options = options.Value;
        _pricing = [.. catalog.All.Where(spec => ReferenceEquals(catalog.Find(spec.Id), spec))];
        if (_options.Enabled)
        {
            metrics.StartCredits(_pricing.Select(spec => spec.Id));
        }
    }

    public bool Enabled => _options.Enabled;

    /// <summary>
    /// The output a request is assumed to produce before it has: its max output, or Credits:DefaultMaxOutputTokens when
    /// it set none. The reservation and the rate limits both charge this.
    /// </summary>
    public long MaxOutputEstimate(long? maxOutputTokens) =>
        // The parser refuses a negative max output; should one get here, it is estimated as if none was set.
        maxOutputTokens is >= 0 ? maxOutputTokens.Value : _options.DefaultMaxOutputTokens;

    /// <summary>Reserves the request's estimate under every contract that covers the model; the ledger picks the lots.</summary>
    public async Task<ReserveOutcome> ReserveAsync(string usageId, string accountId, string? requestedModel, long referenceInput, long? maxOutputTokens)
    {
        var model = requestedModel ?? string.Empty;

        var maxOutput = MaxOutputEstimate(maxOutputTokens);
        var estimates = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var spec in _pricing)
        {
            if (spec.CoversModel(model))
            {
                estimates[spec.Id] = ContractUnits.Estimate(spec, referenceInput, maxOutput);
            }
        }

        // The account's requests settling here now hold their estimates until they post what they used. A client that
        // sends one request after another has its last response before that request has posted, so this reserve may be
        // decided against that hold: when it is refused, it is asked once more after they have posted.
        var settling = _settlements.SettlingFor(accountId);
        var outcome = await ReserveNowAsync(usageId, accountId, estimates);
        if (!outcome.Granted && settling is not null)
        {
            await _settlements.SettledAsync(accountId, settling, Proxy.SettlementTracker.RefusalWait);
            outcome = await ReserveNowAsync(usageId, accountId, estimates);
        }

        if (outcome is { Granted: true, Reservation: { } granted })
        {
            _keepAlive.Hold(granted.ReservationId);
        }

        _metrics.Reservation(outcome.Granted ? "reserved" : "refused");

        return outcome;
    }

    // Not cancellable: a reserve abandoned half-way would leave a pending reservation with nobody to end it.
    private Task<ReserveOutcome> ReserveNowAsync(string usageId, string accountId, Dictionary<string, long> estimates)
    {
        var now = _clock.GetUtcNow();
        return _ledger.ReserveAsync(new ReserveRequest(usageId, accountId, estimates, now, now + _options.ReservationTimeout), CancellationToken.None);
    }

    /// <summary>
    /// Posts what was delivered when the request is <paramref name="chargeable"/> (a client that left pays for what it
    /// got), or voids the reservation (the upstream failed: the provider's failure is not the client's bill; or nothing
    /// was forwarded: then it is not priced either). The ledger fills the record's redemption fields and closes it in
    /// the same atomic write.
    /// </summary>
    public Task SettleAndCloseAsync(UsageRecord record, Reservation reservation, bool forwarded, bool chargeable)
    {
        var spec = reservation.ContractId is null || !forwarded ? null : _catalog.Find(reservation.ContractId);
        PricedUnits? priced = spec is null ? null : ContractUnits.Price(spec, record.Counts);
        record.ContractVersion = spec?.Version;
        record.UnitsMicro = priced?.Micro;
        record.UnitsBasis = priced?.Basis;
        return _ledger.SettleAndCloseAsync(reservation, chargeable ? priced?.Micro ?? 0 : null, record, CancellationToken.None);
    }
}
