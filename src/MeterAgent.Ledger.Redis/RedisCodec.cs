using MeterAgent.Ledger.Credits;
using MeterAgent.Ledger.Sqlite;
using StackExchange.Redis;

namespace MeterAgent.Ledger.Redis;

/// <summary>Reads what the scripts return (flat arrays of strings) into the ledger's records.</summary>
internal static class RedisCodec
{
    /// <summary>Fields a lot reply has: id, contract, version, delivery, delivered, available, pending, redeemed, window start, window end, delivered at.</summary>
    public const int LotFields = 11;

    /// <summary>A reservation's contract as stored: <c>c:ID</c>, or <c>-</c> for none.</summary>
    public static string ContractText(string? contractId) => contractId is null ? "-" : "c:" + contractId;

    public static string[] Strings(RedisResult result)
    {
        if (result.IsNull)
        {
            return [];
        }

        var items = (RedisResult[])result!;
        var strings = new string[items.Length];
        for (var i = 0; i < items.Length; i++)
        {
            strings[i] = items[i].IsNull ? string.Empty : items[i].ToString();
        }

        return strings;
    }

    /// <summary>A reservation from the 8 fields after <paramref name="offset"/> (state, contract, reserved, posted, overage, created, expires, draws).</summary>
    public static Reservation Reservation(string reservationId, string accountId, string[] f, int offset)
    {
        var contract = f[offset + 1];
        var draws = new List<LotDraw>();
        var text = f[offset + 7];
        if (text.Length > 0)
        {
            foreach (var draw in text.Split(';'))
            {
                var parts = draw.Split(',');
                draws.Add(new LotDraw(parts[0], RedisAmounts.Parse(parts[1]), RedisAmounts.Parse(parts[2])));
            }
        }

        return new Reservation(
            reservationId,
            accountId,
            contract.StartsWith("c:", StringComparison.Ordinal) ? contract[2..] : null,
            ReservationStateNames.FromName(f[offset]),
            ReservedMicro: RedisAmounts.Parse(f[offset + 2]),
            PostedMicro: RedisAmounts.Parse(f[offset + 3]),
            OverageMicro: RedisAmounts.Parse(f[offset + 4]),
            draws,
            SqliteTime.FromUnixMicroseconds(RedisAmounts.Parse(f[offset + 5])),
            SqliteTime.FromUnixMicroseconds(RedisAmounts.Parse(f[offset + 6])));
    }

    public static CreditLot Lot(string accountId, string[] f, int offset) =>
        new(
            LotId: f[offset],
            AccountId: accountId,
            ContractId: f[offset + 1],
            ContractVersion: (int)RedisAmounts.Parse(f[offset + 2]),
            DeliveryId: f[offset + 3],
            DeliveredMicro: RedisAmounts.Parse(f[offset + 4]),
            AvailableMicro: RedisAmounts.Parse(f[offset + 5]),
            PendingMicro: RedisAmounts.Parse(f[offset + 6]),
            RedeemedMicro: RedisAmounts.Parse(f[offset + 7]),
            WindowStart: SqliteTime.FromUnixMicroseconds(RedisAmounts.Parse(f[offset + 8])),
            WindowEnd: SqliteTime.FromUnixMicroseconds(RedisAmounts.Parse(f[offset + 9])),
            DeliveredAt: SqliteTime.FromUnixMicroseconds(RedisAmounts.Parse(f[offset + 10])));

    /// <summary>Lots in redemption order: window end, then delivery time, then lot id (what SQLite's ORDER BY gives).</summary>
    public static int RedemptionOrder(CreditLot a, CreditLot b)
    {
        var byEnd = a.WindowEnd.CompareTo(b.WindowEnd);
        if (byEnd != 0)
        {
            return byEnd;
        }

        var byDelivery = a.DeliveredAt.CompareTo(b.DeliveredAt);
        return byDelivery != 0 ? byDelivery : string.CompareOrdinal(a.LotId, b.LotId);
    }
}
