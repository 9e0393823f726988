using MeterAgent.Ledger.Usage;
using Xunit.Abstractions;
using static MeterAgent.Ledger.Tests.Sqlite.UsageRecords;

namespace MeterAgent.Ledger.Tests.Sqlite;

public sealed class GroupCommitTests(ITestOutputHelper output)
{
    private static UsageRecord Numbered(int i)
    {
        var record = Minimal($"acct_{i % 7:x16}", T0.AddMilliseconds(i));
        record.ReferenceInputTokens = i;
        return record;
    }

    private static void Finish(UsageRecord record, int i)
    {
        record.Status = i % 5 == 0 ? UsageStatus.ClientAborted : UsageStatus.Completed;
        record.EndedAt = record.StartedAt.AddMilliseconds(i);
        record.ReferenceOutputTokens = i * 3L;
        record.NativeReported = true;
        record.NativeOutputTokens = i * 3L + 1;
        record.Quality = "native";
        record.HttpStatus = 200;
    }

    [Fact]
    public async Task Concurrent_opens_and_closes_all_land_with_their_values_in_fewer_transactions_than_writes()
    {
        const int Requests = 2000;
        using var dir = new TempFolder();
        await using var store = TestStore.Open(dir.DbPath);
        var records = Enumerable.Range(0, Requests).Select(Numbered).ToArray();
        var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        var requests = Enumerable.Range(0, Requests).Select(i => Task.Run(async () =>
        {
            await start.Task;
            await store.Usage.OpenAsync(records[i]);

            // The open is durable (and visible) once awaited, before the request would go upstream.
            Assert.Equal(UsageStatus.Open, (await store.Usage.GetAsync(records[i].Id))!.Status);
            Finish(records[i], i);
            await store.Usage.CloseAsync(records[i]);
        })).ToArray();
        start.SetResult();
        await Task.WhenAll(requests);
        output.WriteLine($"{store.Usage.CommittedWriteCount} writes in {store.Usage.TransactionCount} transactions, largest {store.Usage.LargestBatch}");

        for (var i = 0; i < Requests; i++)
        {
            AssertSame(records[i], await store.Usage.GetAsync(records[i].Id));
        }

        // The opens went to the journal file (one frame each); the closes are the writer's group-committed writes.
        Assert.Equal(Requests, store.Writer.Journal.FrameCount);
        Assert.True(store.Writer.Journal.WriteCount < Requests / 2, $"{store.Writer.Journal.WriteCount} journal writes for {Requests} opens");
        Assert.Equal(Requests, store.Usage.CommittedWriteCount);
        Assert.True(store.Usage.TransactionCount < store.Usage.CommittedWriteCount / 2, $"{store.Usage.TransactionCount} transactions for {store.Usage.CommittedWriteCount} writes");
        Assert.InRange(store.Usage.LargestBatch, 2, store.Database.Options.MaxBatchSize);
    }

    [Fact]
    public async Task Closes_arriving_one_after_another_share_commits()
    {
        // The proxy at concurrency 1: each close is queued after its response, ~0.3 ms apart, and the next request does
        // not wait for it. Without gathering every close was a commit of its own, rewriting the same hot pages. 6 ms (the
        // default) over closes 0.3 ms apart: a score of them per commit.
        const int Closes = 300;
        using var dir = new TempFolder();
        await using var store = TestStore.Open(dir.DbPath);
        var records = Enumerable.Range(0, Closes).Select(Numbered).ToArray();

        // Warm (compiled, schema read) so that a commit takes well under the pace, as it does in a running agent.
        for (var i = 0; i < 50; i++)
        {
            await store.Usage.CloseAsync(Numbered(Closes + i));
        }

        var writesBefore = store.Usage.CommittedWriteCount;
        var transactionsBefore = store.Usage.TransactionCount;
        // Paced on a thread of its own: spinning on a pool thread would starve the writer of the two-core machine's pool.
        var closes = new List<Task>(Closes);
        await Task.Factory.StartNew(() =>
        {
            var pace = System.Diagnostics.Stopwatch.StartNew();
            for (var i = 0; i < Closes; i++)
            {
                closes.Add(store.Usage.CloseAsync(records[i]).AsTask());
                var next = pace.Elapsed + TimeSpan.FromMicroseconds(300);
                while (pace.Elapsed < next)
                {
                    Thread.SpinWait(20);
                }
            }
        }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);

        await Task.WhenAll(closes);
        var transactions = store.Usage.TransactionCount - transactionsBefore;
        output.WriteLine($"{Closes} paced closes in {transactions} transactions");
        Assert.Equal(Closes, store.Usage.CommittedWriteCount - writesBefore);
        Assert.True(transactions < Closes / 10, $"{transactions} transactions for {Closes} paced closes");
        for (var i = 0; i < Closes; i += 37)
        {
            Assert.NotNull(await store.Usage.GetAsync(records[i].Id));
        }
    }

    [Fact]
    public async Task With_gathering_off_a_close_right_after_a_commit_is_not_held()
    {
        // Store:CloseGatherTime = 0. Gathering would hold the second close, since the writer committed moments ago
        // (with the window the test below sets, for 30 s); off, it is committed on its own at once.
        using var dir = new TempFolder();
        await using var store = TestStore.Open(dir.DbPath, configure: o => o.CloseGatherTime = TimeSpan.Zero);
        await store.Usage.CloseAsync(Numbered(0));
        var transactionsBefore = store.Usage.TransactionCount;

        await store.Usage.CloseAsync(Numbered(1)).AsTask().WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(transactionsBefore + 1, store.Usage.TransactionCount);
    }

    [Fact]
    public async Task A_write_a_request_waits_for_ends_the_gathering_of_closes_at_once()
    {
        using var dir = new TempFolder();
        await using var store = TestStore.Open(dir.DbPath, configure: o => o.CloseGatherTime = TimeSpan.FromSeconds(30));

        // A commit moments ago: the next close is held for others to share its commit (up to 30 s here).
        await store.Usage.CloseAsync(Numbered(0));
        var held = Numbered(1);
        var gathering = store.Usage.CloseAsync(held).AsTask();
        await Task.Delay(100);
        Assert.False(gathering.IsCompleted);

        // A write on a request's path (a reservation would be one) is not held: it commits at once, the close with it.
        var waited = System.Diagnostics.Stopwatch.StartNew();
        await new MeterAgent.Ledger.Sqlite.SqliteWriteProbe(store.Writer).ProbeWriteAsync(CancellationToken.None);
        Assert.True(waited.Elapsed < TimeSpan.FromSeconds(10), $"the write waited {waited.Elapsed}");
        await gathering.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.NotNull(await store.Usage.GetAsync(held.Id));
    }

    [Fact]
    public async Task A_close_whose_caller_blocks_after_it_stalls_neither_the_writer_nor_later_closes()
    {
        // The callers of one commit's closes are resumed together, off the writer: a settlement observer that blocks
        // holds up the callers of its own commit at most, never the store's writes or the commits after it.
        using var dir = new TempFolder();
        await using var store = TestStore.Open(dir.DbPath);
        using var release = new ManualResetEventSlim();
        var resumed = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        var blocking = Task.Run(async () =>
        {
            await store.Usage.CloseAsync(Numbered(0));
            resumed.SetResult(Thread.CurrentThread.IsThreadPoolThread);
            release.Wait(TimeSpan.FromSeconds(30));
        });
        Assert.True(await resumed.Task.WaitAsync(TimeSpan.FromSeconds(10)));

        var later = Enumerable.Range(1, 20).Select(i => store.Usage.CloseAsync(Numbered(i)).AsTask()).ToArray();
        await Task.WhenAll(later).WaitAsync(TimeSpan.FromSeconds(10));
        await new MeterAgent.Ledger.Sqlite.SqliteWriteProbe(store.Writer).ProbeWriteAsync(CancellationToken.None)
            .WaitAsync(TimeSpan.FromSeconds(10));
        Assert.False(blocking.IsCompleted);

        release.Set();
        await blocking.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(1 + 20 + 1, store.Usage.CommittedWriteCount);
    }

    [Fact]
    public async Task A_full_batch_of_closes_ends_the_gathering_at_once()
    {
        using var dir = new TempFolder();
        await using var store = TestStore.Open(dir.DbPath, configure: o =>
        {
            o.CloseGatherTime = TimeSpan.FromSeconds(30);
            o.MaxBatchSize = 8;
        });

        // A commit moments ago, so the next closes are held for others to share their commit (up to 30 s here)...
        await store.Usage.CloseAsync(Numbered(0));
        var first = store.Usage.CloseAsync(Numbered(1)).AsTask();
        await Task.Delay(100);
        Assert.False(first.IsCompleted);

        // ...until a batch's worth is queued: the batch is filled and committed without waiting out the window.
        var rest = Enumerable.Range(2, 8).Select(i => store.Usage.CloseAsync(Numbered(i)).AsTask()).ToArray();
        await first.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(1 + 8, store.Usage.CommittedWriteCount);
        Assert.Equal(8, store.Usage.LargestBatch);

        // The batch's callers are resumed one after another, off the writer, the first's first: the other seven have
        // their answers moments later. The one left over is held for the closes behind it, as any close after a commit
        // is; stopping commits it.
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (rest.Count(close => close.IsCompleted) < 7 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(10);
        }

        Assert.Equal(1, rest.Count(close => !close.IsCompleted));
        await store.DisposeAsync();
        await Task.WhenAll(rest).WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task A_batch_never_exceeds_the_configured_size()
    {
        using var dir = new TempFolder();
        await using var store = TestStore.Open(dir.DbPath, configure: o => o.MaxBatchSize = 8);

        await Task.WhenAll(Enumerable.Range(0, 500).Select(i => store.Usage.CloseAsync(Numbered(i)).AsTask()));

        Assert.Equal(500, store.Usage.CommittedWriteCount);
        Assert.InRange(store.Usage.LargestBatch, 1, 8);
        Assert.True(store.Usage.TransactionCount >= 500 / 8);
    }

    [Fact]
    public async Task With_a_batch_size_of_one_every_write_is_its_own_transaction()
    {
        using var dir = new TempFolder();
        await using var store = TestStore.Open(dir.DbPath, configure: o => o.MaxBatchSize = 1);

        await Task.WhenAll(Enumerable.Range(0, 100).Select(i => store.Usage.CloseAsync(Numbered(i)).AsTask()));

        Assert.Equal(100, store.Usage.TransactionCount);
        Assert.Equal(1, store.Usage.LargestBatch);
    }

    [Fact]
    public async Task Dispose_commits_every_write_already_queued()
    {
        using var dir = new TempFolder();
        var records = Enumerable.Range(0, 300).Select(Numbered).ToArray();
        Task[] writes;
        await using (var store = TestStore.Open(dir.DbPath))
        {
            // Not awaited before disposal: the writes are queued when DisposeAsync starts.
            writes = records.Select(r => store.Usage.OpenAsync(r).AsTask()).ToArray();
        }

        await Task.WhenAll(writes);
        await using var reopened = TestStore.Open(dir.DbPath);
        var stored = new List<UsageRecord>();
        string? before = null;
        IReadOnlyList<UsageRecord> page;
        while ((page = await reopened.Usage.QueryAsync(new UsageQuery(Before: before, Limit: 1000))).Count > 0)
        {
            stored.AddRange(page);
            before = page[^1].Id;
        }

        Assert.Equal(records.Select(r => r.Id).Order(StringComparer.Ordinal), stored.Select(r => r.Id).Order(StringComparer.Ordinal));
    }
}
