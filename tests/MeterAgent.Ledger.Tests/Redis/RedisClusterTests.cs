using MeterAgent.Ledger.Credits;
using StackExchange.Redis;
using static MeterAgent.Ledger.Tests.Credits.Credit;

namespace MeterAgent.Ledger.Tests.Redis;

/// <summary>On a three-master cluster: an account's keys all live in one slot, so its scripts run there.</summary>
[Collection(RedisClusterCollection.Name)]
public sealed class RedisClusterTests(RedisClusterFixture redis)
{
    [Fact]
    public async Task Every_key_of_an_account_hashes_to_the_slot_of_its_tag()
    {
        await using var stores = redis.OpenStores();
        var accountId = (await stores.Accounts.CreateAccountAsync("Acme")).Id;
        await stores.Accounts.IssueKeyAsync(accountId);
        await stores.Ledger.SetPolicyAsync(accountId, new OveragePolicy(OveragePolicyKind.Allow));
        var lot = (await stores.Ledger.ApplyDeliveryAsync(Notice(accountId, 10 * Unit), T0)).Lot!;
        await stores.Ledger.CorrectAsync(lot.LotId, Unit, "batch 7", T0);
        var posted = (await stores.Ledger.ReserveAsync(Request(accountId, 12 * Unit))).Reservation!;
        await stores.Ledger.PostAsync(posted.ReservationId, 12 * Unit);
        await stores.Ledger.ReserveAsync(Request(accountId, Unit));

        var keys = stores.Connection.Keys;
        var expectedSlot = redis.Multiplexer.HashSlot(keys.Account(accountId));
        var found = new List<RedisKey>();
        foreach (var endpoint in redis.Multiplexer.GetEndPoints())
        {
            var server = redis.Multiplexer.GetServer(endpoint);
            if (!server.IsReplica)
            {
                await foreach (var key in server.KeysAsync(pattern: keys.AccountSpace(accountId).Replace("{", "\\{", StringComparison.Ordinal).Replace("}", "\\}", StringComparison.Ordinal) + "*"))
                {
                    found.Add(key);
                }
            }
        }

        // account, keys, policy, lots, lot, deliveries, corrections, two reservations, pending, overage, overage-held.
        Assert.Equal(12, found.Count);
        Assert.All(found, key => Assert.Equal(expectedSlot, redis.Multiplexer.HashSlot(key)));
        var serverSlot = await redis.Server.CliAsync("cluster", "keyslot", keys.Account(accountId)!);
        Assert.Equal(expectedSlot.ToString(System.Globalization.CultureInfo.InvariantCulture), serverSlot.Trim());
    }
}
