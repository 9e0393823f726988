namespace MeterAgent.Ledger.Credits;

/// <summary>An amount to take from one lot, as <see cref="Redemption"/> decided it; the store moves it.</summary>
public readonly record struct LotPick(string LotId, long AmountMicro);
