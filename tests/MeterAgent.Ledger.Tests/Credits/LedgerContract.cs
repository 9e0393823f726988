namespace MeterAgent.Ledger.Tests.Credits;

/// <summary>
/// The behavioural suite's base: a fresh backend and one account per test (xunit makes a test class instance per
/// test). Test classes deriving from it are abstract and speak only the store interfaces; a backend binds each one with
/// a sealed subclass that says how to open its stores (see Sqlite/SqliteCreditLedgerTests.cs).
/// </summary>
public abstract class LedgerContract : IAsyncLifetime
{
    protected ILedgerStores Stores { get; private set; } = null!;

    protected MeterAgent.Ledger.Credits.ICreditLedger Ledger => Stores.Ledger;

    protected string AccountId { get; private set; } = null!;

    /// <summary>A fresh, empty backend; the contract disposes it after the test.</summary>
    protected abstract Task<ILedgerStores> OpenStoresAsync();

    public async Task InitializeAsync()
    {
        Stores = await OpenStoresAsync();
        AccountId = (await Stores.Accounts.CreateAccountAsync("Acme")).Id;
    }

    public async Task DisposeAsync() => await Stores.DisposeAsync();

    protected async Task<string> DeliverAsync(long quantityMicro, string contractId = "gpt4o-2026q1", DateTimeOffset? windowStart = null, DateTimeOffset? windowEnd = null, DateTimeOffset? deliveredAt = null)
    {
        var outcome = await Ledger.ApplyDeliveryAsync(
            Credit.Notice(AccountId, quantityMicro, contractId, windowStart, windowEnd),
            deliveredAt ?? Credit.T0.AddHours(-1));
        Assert.Equal(MeterAgent.Ledger.Credits.DeliveryOutcomeKind.Applied, outcome.Kind);
        return outcome.Lot!.LotId;
    }
}
