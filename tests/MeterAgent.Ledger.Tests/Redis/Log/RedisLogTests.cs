using MeterAgent.Attestation.Entries;
using MeterAgent.Attestation.Merkle;
using MeterAgent.Ledger.Redis.Log;
using MeterAgent.Ledger.Statements;
using MeterAgent.Ledger.Tests.Sqlite;
using StackExchange.Redis;

namespace MeterAgent.Ledger.Tests.Redis.Log;

/// <summary>
/// The shared attestation log on a real Redis: each replica ships its local log to the stream once per record, the
/// lease holder appends the stream to the log once per record, and a new holder continues it with no gap, duplicate or
/// fork while the old holder's token is refused.
/// </summary>
public sealed class RedisLogTests
{
    [SkippableFact]
    public async Task A_retried_batch_adds_nothing_twice_and_a_restarted_replica_resumes_from_its_cursor_in_Redis()
    {
        await using var redis = await SharedRedis.StartAsync(cluster: false);
        await using var replica = new LogReplica(redis.Connection, "r1");
        var db = redis.Connection.GetDatabase();

        await replica.CloseAsync(5);
        Assert.Equal(5, await replica.Shipper.ShipPendingAsync(default));
        Assert.Equal(5, await db.StreamLengthAsync(replica.Keys.Stream));

        // The same batch again (its reply was lost to a timeout), and one that starts inside what was shipped.
        var shipped = await replica.Local.ReadAsync(0, 100);
        Assert.Equal((0, 5L), await replica.Shipper.ShipAsync(0, shipped));
        Assert.Equal((0, 5L), await replica.Shipper.ShipAsync(3, [.. shipped.Skip(3)]));

        // A batch overlapping the cursor adds only its unsent tail.
        await replica.CloseAsync(3);
        var all = await replica.Local.ReadAsync(0, 100);
        Assert.Equal((3, 8L), await replica.Shipper.ShipAsync(3, [.. all.Skip(3)]));

        // A restarted process knows only its file and Redis: it ships what came after the cursor, nothing before.
        await replica.CloseAsync(2);
        replica.Restart();
        Assert.Equal(2, await replica.Shipper.ShipPendingAsync(default));
        Assert.Equal(0, await replica.Shipper.ShipPendingAsync(default));
        Assert.Equal(0, replica.Shipper.Backlog);
        Assert.Equal(TimeSpan.Zero, replica.Shipper.Lag);

        var stream = await db.StreamRangeAsync(replica.Keys.Stream);
        var local = (await replica.Local.ReadAsync(0, 100)).Select(e => UsageEntryEncoding.Decode(e).UsageId).ToList();
        Assert.Equal(local, stream.Select(s => (string)s["u"]!));
        Assert.Equal(10, (long)await db.StringGetAsync(replica.Keys.ShipCursor("r1")));

        // A batch beyond the cursor (Redis lost acknowledged writes) adds nothing and says where to resume.
        Assert.Equal((0, 10L), await replica.Shipper.ShipAsync(12, [all[0]]));
    }

    [SkippableFact]
    public async Task The_backlog_and_lag_count_what_is_local_but_not_shipped()
    {
        await using var redis = await SharedRedis.StartAsync(cluster: false);
        await using var replica = new LogReplica(redis.Connection, "r1", batchSize: 4);
        await replica.CloseAsync(4);
        await replica.Shipper.ShipPendingAsync(default);
        await replica.CloseAsync(3);
        await redis.Server.StopAsync();

        await Assert.ThrowsAnyAsync<RedisException>(() => replica.NewShipper().ShipPendingAsync(default));
        await redis.Server.StartAgainAsync();
        var shipper = replica.NewShipper();
        await Eventually.TrueAsync(async () => await TryShipAsync(shipper) == 3, "the local entries ship once Redis is back");
        Assert.Equal(0, shipper.Backlog);
    }

    private static async Task<int> TryShipAsync(RecordShipper shipper)
    {
        try
        {
            return await shipper.ShipPendingAsync(default);
        }
        catch (RedisException)
        {
            return -1;
        }
    }

    [SkippableTheory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Two_replicas_shipping_concurrently_leave_each_record_in_the_log_exactly_once(bool cluster)
    {
        await using var redis = await SharedRedis.StartAsync(cluster);
        await using var second = await SharedRedis.ConnectAsync(redis.Server);
        await using var r1 = new LogReplica(redis.Connection, "r1", batchSize: 16);
        await using var r2 = new LogReplica(second, "r2", batchSize: 16);
        Assert.NotNull(await r1.Lease.TryAcquireAsync());
        Assert.Null(await r2.Lease.TryAcquireAsync());
        await r1.Appender.StartAsync(default);
        await r1.Shipper.StartAsync(default);
        await r2.Shipper.StartAsync(default);

        var closing = Enumerable.Range(0, 20).SelectMany(i => new[] { r1.CloseAsync(10, start: UsageRecords.T0.AddSeconds(i)), r2.CloseAsync(10, "contract-b") });
        var records = (await Task.WhenAll(closing)).SelectMany(r => r).ToList();

        // A record both replicas hold (it reached the stream twice) and a batch shipped again: still once in the log.
        var both = (await r1.CloseAsync(1)).Single();
        await r2.Log.AppendAsync([both]);
        var again = await r2.Local.ReadAsync(0, 5);
        await r2.Shipper.ShipAsync(0, again);

        var db = redis.Connection.GetDatabase();
        await Eventually.TrueAsync(async () => await db.ListLengthAsync(r1.Keys.Entries) == records.Count + 1, "every record in the shared log");
        await Task.Delay(200); // the appender keeps running: nothing more may arrive
        await r1.Appender.StopAsync(default);
        await r1.Shipper.StopAsync(default);
        await r2.Shipper.StopAsync(default);

        var entries = await r2.Log.ReadAsync(0, 10_000);
        var ids = entries.Select(e => UsageEntryEncoding.Decode(e).UsageId).ToList();
        Assert.Equal(records.Count + 1, ids.Count);
        Assert.Equal(ids.Count, ids.Distinct().Count());
        Assert.Equal(records.Select(r => r.Id).Append(both.Id).Order(), ids.Order());
        Assert.Equal(ids.Count, await db.HashLengthAsync(r1.Keys.Ids));

        // Each replica's records keep its local order; each is found at its place, by either replica.
        foreach (var replica in new[] { r1, r2 })
        {
            var local = (await replica.Local.ReadAsync(0, 10_000)).Select(e => UsageEntryEncoding.Decode(e).UsageId).ToList();
            Assert.Equal(local.Where(id => id != both.Id), ids.Where(id => local.Contains(id) && id != both.Id));
        }

        for (var i = 0; i < ids.Count; i += 37)
        {
            var found = await r1.Log.FindAsync(ids[i]);
            Assert.Equal(i, found!.LeafIndex);
            Assert.Equal(entries[i], found.Entry);
        }

        Assert.Null(await r2.Log.FindAsync("not-a-record"));

        // The tree over the shared entries is the one rebuilt independently from the raw list.
        var tree = new MerkleLog(new InMemoryHashStore());
        foreach (var entry in entries)
        {
            tree.Append(entry);
        }

        var root = new byte[32];
        tree.RootHash(entries.Count, root);
        var raw = (await db.ListRangeAsync(r1.Keys.Entries)).Select(v => (byte[])v!).ToList();
        Assert.Equal(SharedRedis.MerkleRoot(raw), root);

        // The statement store's view of the log: contracts, first start, an interval's leaves in index order.
        Assert.Equal(["contract-a", "contract-b"], await r2.Statements.LoggedContractsAsync());
        Assert.Equal(UsageRecords.T0, await r2.Statements.FirstStartAsync("contract-a"));
        var leaves = await r2.Statements.LeavesAsync("contract-a", UsageRecords.T0.AddSeconds(3), UsageRecords.T0.AddSeconds(5), entries.Count);
        Assert.Equal(20, leaves.Count);
        Assert.Equal(leaves.Select(l => l.Index).Order(), leaves.Select(l => l.Index));
        Assert.All(leaves, l => Assert.Equal(entries[(int)l.Index], l.Entry));
        Assert.Equal(10, (await r2.Statements.LeavesAsync("contract-a", UsageRecords.T0.AddSeconds(3), UsageRecords.T0.AddSeconds(5), leaves[10].Index)).Count);
    }

    [SkippableTheory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_dead_holder_is_replaced_with_no_gap_duplicate_or_fork_and_its_stale_token_is_refused(bool cluster)
    {
        await using var redis = await SharedRedis.StartAsync(cluster);
        await using var second = await SharedRedis.ConnectAsync(redis.Server);
        var ttl = TimeSpan.FromSeconds(1);
        await using var r1 = new LogReplica(redis.Connection, "r1", ttl);
        await using var r2 = new LogReplica(second, "r2", ttl);
        var t1 = (await r1.Lease.TryAcquireAsync())!.Value;
        Assert.True(await r1.Lease.RenewAsync());

        await r1.CloseAsync(20);
        await r2.CloseAsync(20, "contract-b");
        await r1.Shipper.ShipPendingAsync(default);
        await r2.Shipper.ShipPendingAsync(default);
        Assert.Equal(40, await r1.Appender.AppendPendingAsync(t1));
        var before = await r1.Log.ReadAsync(0, 1000);
        var root40 = SharedRedis.MerkleRoot(before);
        await r1.Checkpoints.SaveAsync(new StoredCheckpoint(40, root40, "note 40"), t1);

        // r1 stops renewing (it died, or it paused): its records still ship, nobody appends them until r2 takes over.
        await r1.CloseAsync(10, start: UsageRecords.T0.AddMinutes(1));
        await r1.Shipper.ShipPendingAsync(default);
        Assert.Null(await r2.Lease.TryAcquireAsync());
        long? t2 = null;
        await Eventually.TrueAsync(async () => (t2 = await r2.Lease.TryAcquireAsync()) is not null, "r2 takes the lease after the TTL");
        Assert.True(t2 > t1);

        // The stale holder still believes it holds the lease: every write with its token is refused.
        Assert.Equal(t1, r1.Lease.Token);
        await Assert.ThrowsAsync<LogFencedException>(() => r1.Appender.AppendPendingAsync(t1));
        await Assert.ThrowsAsync<LogFencedException>(() => r1.Checkpoints.SaveAsync(new StoredCheckpoint(50, new byte[32], "stale"), t1));
        await Assert.ThrowsAsync<LogFencedException>(() => r1.Statements.AppendAsync([Statement(1, 40)]));
        Assert.False(await r1.Lease.RenewAsync());
        Assert.False(r1.Lease.IsHolder);

        // The new holder starts from the stored checkpoint and continues the log.
        var stored = await r2.Checkpoints.LoadAsync();
        Assert.Equal(40L, stored!.Size);
        Assert.Equal(root40, stored.RootHash);
        await r2.CloseAsync(10, "contract-b", UsageRecords.T0.AddMinutes(1));
        await r2.Shipper.ShipPendingAsync(default);
        Assert.Equal(20, await r2.Appender.AppendPendingAsync(t2!.Value));
        Assert.Equal(0, await r2.Appender.AppendPendingAsync(t2.Value));

        var after = await r2.Log.ReadAsync(0, 1000);
        Assert.Equal(60, after.Count);
        Assert.Equal(before, after.Take(40)); // no fork: the old tree is a prefix of the new one
        var ids = after.Select(e => UsageEntryEncoding.Decode(e).UsageId).ToList();
        Assert.Equal(60, ids.Distinct().Count());
        var r1Ids = (await r1.Local.ReadAsync(0, 1000)).Select(e => UsageEntryEncoding.Decode(e).UsageId);
        var r2Ids = (await r2.Local.ReadAsync(0, 1000)).Select(e => UsageEntryEncoding.Decode(e).UsageId);
        Assert.Equal(r1Ids.Concat(r2Ids).Order(), ids.Order()); // no gap: every shipped record is in the log
        for (var i = 0; i < 60; i += 7)
        {
            Assert.Equal(i, (await r2.Log.FindAsync(ids[i]))!.LeafIndex);
        }

        // Published sizes only grow, and a size holds one root.
        var root60 = SharedRedis.MerkleRoot(after);
        await r2.Checkpoints.SaveAsync(new StoredCheckpoint(60, root60, "note 60"), t2.Value);
        await r2.Checkpoints.SaveAsync(new StoredCheckpoint(60, root60, "note 60"), t2.Value);
        await Assert.ThrowsAsync<InvalidOperationException>(() => r2.Checkpoints.SaveAsync(new StoredCheckpoint(40, root40, "note 40"), t2.Value));
        await Assert.ThrowsAsync<InvalidOperationException>(() => r2.Checkpoints.SaveAsync(new StoredCheckpoint(60, root40, "fork"), t2.Value));
        Assert.Equal("note 60", (await r1.Checkpoints.LoadAsync())!.Note);

        // The stream keeps only what is not consumed yet.
        Assert.Equal(1, await redis.Connection.GetDatabase().StreamLengthAsync(r1.Keys.Stream));

        // A holder that stops gives the lease up at once.
        await r2.Lease.ReleaseAsync();
        Assert.True(await r1.Lease.TryAcquireAsync() > t2);
    }

    [SkippableTheory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Statements_continue_one_fenced_chain_and_a_gap_or_a_sequence_stored_twice_is_refused_whole(bool cluster)
    {
        await using var redis = await SharedRedis.StartAsync(cluster);
        await using var r1 = new LogReplica(redis.Connection, "r1");
        Assert.Null(await r1.Statements.LatestAsync());
        await Assert.ThrowsAsync<LogFencedException>(() => r1.Statements.AppendAsync([Statement(1, 0)]));
        await r1.Lease.TryAcquireAsync();

        var first = Statement(1, 10);
        var second = Statement(2, 12, amends: 1);
        var third = Statement(3, 12, contract: "contract-b", start: UsageRecords.T0.AddHours(1));
        await r1.Statements.AppendAsync([first, second]);
        await r1.Statements.AppendAsync([third]);

        await Assert.ThrowsAsync<InvalidOperationException>(() => r1.Statements.AppendAsync([Statement(3, 12)]));
        await Assert.ThrowsAsync<InvalidOperationException>(() => r1.Statements.AppendAsync([Statement(4, 12), Statement(6, 12)]));
        Assert.Null(await r1.Statements.GetEnvelopeAsync(4));

        var latest = await r1.Statements.LatestAsync();
        Assert.Equivalent(third.Header, latest);
        Assert.Equal([1L, 2L, 3L], (await r1.Statements.ListAsync(0, 10)).Select(h => h.Sequence));
        Assert.Equal([2L], (await r1.Statements.ListAsync(1, 1)).Select(h => h.Sequence));
        Assert.Equivalent(second.Header, (await r1.Statements.ListAsync(1, 1)).Single());
        Assert.Equal(second.Envelope, await r1.Statements.GetEnvelopeAsync(2));
        Assert.Equal([1L, 2L], (await r1.Statements.ForIntervalAsync("contract-a", UsageRecords.T0)).Select(h => h.Sequence));
        Assert.Empty(await r1.Statements.ForIntervalAsync("contract-a", UsageRecords.T0.AddHours(1)));
        Assert.Equal(UsageRecords.T0.AddHours(1), await r1.Statements.StatedUntilAsync("contract-a"));
        Assert.Equal(UsageRecords.T0.AddHours(2), await r1.Statements.StatedUntilAsync("contract-b"));
        Assert.Null(await r1.Statements.StatedUntilAsync("contract-c"));
    }

    private static (StatementHeader Header, byte[] Envelope) Statement(
        long sequence, long treeSize, long? amends = null, string contract = "contract-a", DateTimeOffset? start = null)
    {
        var from = start ?? UsageRecords.T0;
        var envelope = System.Text.Encoding.UTF8.GetBytes($"envelope {sequence}");
        return (new StatementHeader
        {
            Sequence = sequence,
            ContractId = contract,
            IntervalStart = from,
            IntervalEnd = from.AddHours(1),
            Amends = amends,
            TreeSize = treeSize,
            Digest = System.Security.Cryptography.SHA256.HashData(envelope),
            CreatedAt = from.AddHours(1).AddMinutes(2),
        }, envelope);
    }
}
