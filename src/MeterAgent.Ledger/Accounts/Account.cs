namespace MeterAgent.Ledger.Accounts;

public sealed record Account(string Id, string Name, DateTimeOffset CreatedAt);
