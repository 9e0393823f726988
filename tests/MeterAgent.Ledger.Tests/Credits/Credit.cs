using System.Security.Cryptography;
using System.Text;
using MeterAgent.Contracts.Deliveries;
using MeterAgent.Ledger.Credits;

namespace MeterAgent.Ledger.Tests.Credits;

/// <summary>Builders for deliveries and reservations around one fixed instant.</summary>
internal static class Credit
{
    /// <summary>1 unit in micro-units.</summary>
    public const long Unit = 1_000_000;

    /// <summary>Whole microseconds: the store keeps timestamps to the microsecond.</summary>
    public static readonly DateTimeOffset T0 = new(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);

    public static DeliveryNotice Notice(
        string accountId,
        long quantityMicro,
        string contractId = "gpt4o-2026q1",
        DateTimeOffset? windowStart = null,
        DateTimeOffset? windowEnd = null,
        string? deliveryId = null,
        string? payload = null)
    {
        var id = deliveryId ?? "dlv_" + Guid.NewGuid().ToString("N");
        var digest = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(payload ?? id)));
        return new DeliveryNotice(
            id,
            contractId,
            ContractVersion: 2,
            accountId,
            quantityMicro,
            windowStart ?? T0.AddDays(-1),
            windowEnd ?? T0.AddDays(30),
            IssuedAt: T0.AddDays(-1),
            digest);
    }

    public static ReserveRequest Request(string accountId, long estimateMicro, string contractId = "gpt4o-2026q1", string? reservationId = null) =>
        Request(accountId, new Dictionary<string, long> { [contractId] = estimateMicro }, reservationId);

    public static ReserveRequest Request(string accountId, Dictionary<string, long> estimates, string? reservationId = null, DateTimeOffset? now = null)
    {
        var at = now ?? T0;
        return new ReserveRequest(reservationId ?? "res_" + Guid.NewGuid().ToString("N"), accountId, estimates, at, at.AddMinutes(5));
    }
}
