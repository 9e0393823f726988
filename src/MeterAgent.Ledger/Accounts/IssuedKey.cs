namespace MeterAgent.Ledger.Accounts;

/// <summary>A newly issued key. <see cref="Secret"/> is returned once and never stored.</summary>
public sealed record IssuedKey(ApiKeyInfo Info, string Secret);
