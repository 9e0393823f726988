using MeterAgent.Ledger.Accounts;
using MeterAgent.Ledger.Credits;
using MeterAgent.Ledger.Usage;

namespace MeterAgent.Ledger.Tests.Credits;

/// <summary>
/// One fresh, empty backend behind the store interfaces: what a backend gives the behavioural suite, so the same tests
/// run unchanged against every store.
/// </summary>
public interface ILedgerStores : IAsyncDisposable
{
    IAccountStore Accounts { get; }

    IUsageStore Usage { get; }

    ICreditLedger Ledger { get; }
}
