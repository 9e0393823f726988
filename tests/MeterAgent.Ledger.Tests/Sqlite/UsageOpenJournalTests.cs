using System.Text;
using MeterAgent.Ledger.Sqlite;
using MeterAgent.Ledger.Usage;
using Microsoft.Data.Sqlite;
using Xunit.Abstractions;
using static MeterAgent.Ledger.Tests.Sqlite.UsageRecords;

namespace MeterAgent.Ledger.Tests.Sqlite;

/// <summary>The opens' journal file: its frames, what a crash leaves in it, its bound on disk, and its fsyncs.</summary>
public sealed class UsageOpenJournalTests(ITestOutputHelper output)
{
    private const long SmallSegment = 64 * 1024;

    [Fact]
    public void Frames_carry_the_crc32c_of_castagnoli()
    {
        // The check value of CRC-32C (iSCSI, RFC 3720): the CRC of the ASCII digits 1 to 9.
        Assert.Equal(0xE3069283u, JournalFrames.Crc32C(Encoding.ASCII.GetBytes("1234"), Encoding.ASCII.GetBytes("56789")));
    }

    [Fact]
    public async Task A_torn_tail_frame_is_ignored_and_the_frames_before_it_are_recovered()
    {
        using var dir = new TempFolder();
        var opened = new[] { Minimal(startedAt: T0), Full(T0.AddSeconds(1)), Minimal(startedAt: T0.AddSeconds(2)) };
        var crashed = TestStore.Open(dir.DbPath);
        foreach (var record in opened)
        {
            await crashed.Usage.OpenAsync(record);
        }

        // A crash in the middle of the next write: its frame's header and half its payload reached the file.
        var segment = Assert.Single(Segments(dir.DbPath));
        var torn = new byte[JournalFrames.FrameHeaderBytes + 200];
        JournalFrames.WriteFrame(torn, new byte[200]);
        using (var file = new FileStream(segment, FileMode.Append, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete))
        {
            file.Write(torn, 0, JournalFrames.FrameHeaderBytes + 90);
        }

        await using var restarted = TestStore.Open(dir.DbPath);
        Assert.Equal(UsageStatus.Open, (await restarted.Usage.GetAsync(opened[2].Id))!.Status);
        Assert.Equal(3, await restarted.Usage.RecoverOpenAsync());
        foreach (var record in opened)
        {
            var stored = await restarted.Usage.GetAsync(record.Id);
            Assert.Equal((UsageStatus.Interrupted, SqliteUsageStore.InterruptedError), (stored!.Status, stored.Error));
        }

        // Recovery closed everything in the old segment: it is deleted.
        Assert.Empty(Segments(dir.DbPath));
    }

    [Fact]
    public async Task A_frame_that_fails_its_crc_ends_the_segment()
    {
        using var dir = new TempFolder();
        var first = Minimal(startedAt: T0);
        var last = Minimal(startedAt: T0.AddSeconds(1));
        var crashed = TestStore.Open(dir.DbPath);
        await crashed.Usage.OpenAsync(first);
        await crashed.Usage.OpenAsync(last);

        // A bit flipped in the last frame's payload (its final byte): the CRC no longer matches.
        var segment = Assert.Single(Segments(dir.DbPath));
        var bytes = File.ReadAllBytes(segment);
        bytes[^1] ^= 0x40;
        File.WriteAllBytes(segment, bytes);

        await using var restarted = TestStore.Open(dir.DbPath);
        Assert.Equal(1, await restarted.Usage.RecoverOpenAsync());
        Assert.Equal(UsageStatus.Interrupted, (await restarted.Usage.GetAsync(first.Id))!.Status);
        Assert.Null(await restarted.Usage.GetAsync(last.Id));
    }

    [Fact]
    public async Task Of_many_segments_only_those_with_opens_left_are_kept_and_recovery_closes_exactly_those()
    {
        using var dir = new TempFolder();
        var store = TestStore.Open(dir.DbPath, configure: o => o.JournalSegmentBytes = SmallSegment);
        var records = Enumerable.Range(0, 3000).Select(i => Minimal(startedAt: T0.AddMilliseconds(i))).ToList();
        var largestSegmentCount = 0;
        foreach (var record in records)
        {
            await store.Usage.OpenAsync(record);
            largestSegmentCount = Math.Max(largestSegmentCount, store.Writer.Journal.SegmentCount);
        }

        // ~200 bytes a frame: 3000 opens fill about ten 64 KiB segments. Close a run in the middle (whole segments
        // of it) and every seventh record elsewhere; the rest stay open, as requests in flight at a crash.
        var closed = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < records.Count; i++)
        {
            if (i is >= 1000 and < 2000 || i % 7 == 0)
            {
                records[i].Status = UsageStatus.Completed;
                records[i].EndedAt = records[i].StartedAt.AddSeconds(1);
                await store.Usage.CloseAsync(records[i]);
                closed.Add(records[i].Id);
            }
        }

        var segmentsLeft = store.Writer.Journal.SegmentCount;
        output.WriteLine($"{store.Writer.Journal.FrameCount} frames; {largestSegmentCount} segments after the opens, {segmentsLeft} after the closes");
        Assert.True(largestSegmentCount >= 8, $"only {largestSegmentCount} segments");
        Assert.Equal(segmentsLeft, Segments(dir.DbPath).Length);

        // The segments of the closed run are gone; those that still hold opens are kept.
        Assert.InRange(segmentsLeft, 2, largestSegmentCount - 2);
        Assert.Equal(records.Count - closed.Count, store.Writer.Journal.OpenCount);

        // Crash: the store is never disposed. The next one recovers exactly the records never closed.
        await using var restarted = TestStore.Open(dir.DbPath, configure: o => o.JournalSegmentBytes = SmallSegment);
        Assert.Equal(records.Count - closed.Count, await restarted.Usage.RecoverOpenAsync());
        foreach (var record in records)
        {
            var stored = await restarted.Usage.GetAsync(record.Id);
            Assert.Equal(closed.Contains(record.Id) ? UsageStatus.Completed : UsageStatus.Interrupted, stored!.Status);
        }

        Assert.Empty(Segments(dir.DbPath));
        Assert.Equal(0, await restarted.Usage.RecoverOpenAsync());
    }

    [Fact]
    public async Task Under_sustained_open_and_close_load_the_journal_on_disk_stays_bounded()
    {
        using var dir = new TempFolder();
        await using var store = TestStore.Open(dir.DbPath, configure: o => o.JournalSegmentBytes = SmallSegment);
        const int Callers = 32;
        const int PerCaller = 1500;
        long largest = 0;
        var longLived = new System.Collections.Concurrent.ConcurrentBag<UsageRecord>();
        var done = 0;

        var callers = Enumerable.Range(0, Callers).Select(c => Task.Run(async () =>
        {
            for (var i = 0; i < PerCaller; i++)
            {
                var record = Minimal(startedAt: DateTimeOffset.UtcNow);
                await store.Usage.OpenAsync(record);

                // One request in 300 is a long stream still running at the end: without relocation each would pin its
                // segment, and the folder would grow with the load.
                if ((c * PerCaller + i) % 300 == 0)
                {
                    longLived.Add(record);
                    continue;
                }

                record.Status = UsageStatus.Completed;
                record.EndedAt = DateTimeOffset.UtcNow;
                await store.Usage.CloseAsync(record);
            }

            Interlocked.Increment(ref done);
        })).ToArray();

        while (Volatile.Read(ref done) < Callers)
        {
            largest = Math.Max(largest, FolderBytes(dir.DbPath));
            await Task.Delay(5);
        }

        await Task.WhenAll(callers);
        largest = Math.Max(largest, FolderBytes(dir.DbPath));
        var frames = store.Writer.Journal.FrameCount;
        var written = frames * 200L;
        output.WriteLine($"{frames} frames (~{written / 1024} KiB written); largest journal {largest / 1024} KiB; {longLived.Count} still open");

        // Many segments' worth went through it; at most about three segments (active, previous, one being relocated)
        // plus the long-lived records' copies are on disk at any time.
        Assert.True(written > 20 * SmallSegment, $"only {written} bytes of frames");
        var bound = (3 * SmallSegment) + (2 * 64 * 1024) + (longLived.Count * 512L);
        Assert.True(largest <= bound, $"the journal reached {largest} bytes, over {bound}");
        Assert.Equal(longLived.Count, store.Writer.Journal.OpenCount);
    }

    [Fact]
    public async Task Opens_that_close_while_the_appender_copies_them_leave_every_other_record_intact_across_a_crash()
    {
        // An open's bytes live in a pooled buffer until its record closes. Here records close all the time while rolls
        // relocate the live ones and readers read them: a buffer given back too early would put another record's bytes
        // (or a mix) into a frame or a read. Each record names itself in its model, so a frame or read of the wrong bytes shows.
        using var dir = new TempFolder();
        var store = TestStore.Open(dir.DbPath, configure: o => o.JournalSegmentBytes = SmallSegment);
        const int Callers = 16;
        const int PerCaller = 1500;
        var all = new System.Collections.Concurrent.ConcurrentQueue<UsageRecord>();
        var longLived = new System.Collections.Concurrent.ConcurrentDictionary<string, bool>(StringComparer.Ordinal);
        var misread = 0;

        async Task CloseAsync(UsageRecord record)
        {
            record.Status = UsageStatus.Completed;
            record.EndedAt = DateTimeOffset.UtcNow;
            await store.Usage.CloseAsync(record);
        }

        await Task.WhenAll(Enumerable.Range(0, Callers).Select(c => Task.Run(async () =>
        {
            // Each record stays open while its caller opens 40 more, so many are still live in an older segment when a
            // roll relocates them, and close while the appender copies them.
            var lingering = new Queue<UsageRecord>();
            for (var i = 0; i < PerCaller; i++)
            {
                var record = Minimal(startedAt: DateTimeOffset.UtcNow);
                record.RequestedModel = "m-" + record.Id;
                all.Enqueue(record);
                await store.Usage.OpenAsync(record);
                if ((c * PerCaller + i) % 300 == 0)
                {
                    longLived[record.Id] = true;
                    continue;
                }

                lingering.Enqueue(record);
                if (lingering.Count > 40)
                {
                    await CloseAsync(lingering.Dequeue());
                }

                var read = await store.Usage.GetAsync(lingering.Peek().Id);
                if (read?.RequestedModel != "m-" + lingering.Peek().Id)
                {
                    Interlocked.Increment(ref misread);
                }
            }

            while (lingering.Count > 0)
            {
                await CloseAsync(lingering.Dequeue());
            }
        })));

        var frames = store.Writer.Journal.FrameCount;
        output.WriteLine($"{all.Count} opens, {frames} frames written (relocated copies included), {longLived.Count} left open");
        Assert.Equal(0, misread);
        Assert.True(frames > all.Count, "no open was relocated: the test did not exercise the copies");
        Assert.Equal(longLived.Count, store.Writer.Journal.OpenCount);

        // Crash: the store is never disposed. Recovery reads every frame left and closes exactly the long-lived records,
        // each with its own fields.
        await using var restarted = TestStore.Open(dir.DbPath, configure: o => o.JournalSegmentBytes = SmallSegment);
        Assert.Equal(longLived.Count, await restarted.Usage.RecoverOpenAsync());
        foreach (var record in all)
        {
            var stored = await restarted.Usage.GetAsync(record.Id);
            Assert.Equal(longLived.ContainsKey(record.Id) ? UsageStatus.Interrupted : UsageStatus.Completed, stored!.Status);
            Assert.Equal("m-" + record.Id, stored.RequestedModel);
        }
    }

    [Fact]
    public async Task An_open_closed_while_the_appender_relocates_it_keeps_its_bytes_until_the_copy_is_done()
    {
        // The moment the pooled buffers are about: the appender copies live opens out of an old segment, outside the
        // journal's lock, and their records close right then. The buffers must not go back before the copy.
        using var dir = new TempFolder();
        using var journal = new UsageOpenJournal(dir.DbPath, new SqliteStoreOptions { JournalSegmentBytes = SmallSegment },
            Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance);
        var first = Enumerable.Range(0, 700).Select(i => Minimal(startedAt: T0.AddMilliseconds(i))).ToList();
        foreach (var record in first)
        {
            await journal.AppendAsync(record, CancellationToken.None);
        }

        // All but every fiftieth closed: the early segments are less than a quarter live, so the next roll relocates.
        journal.Acknowledge([.. first.Where((_, i) => i % 50 != 0).Select(r => r.Id)]);
        var stillOpen = first.Where((_, i) => i % 50 == 0).Select(r => r.Id).ToHashSet(StringComparer.Ordinal);
        var closedWhileCopied = new List<string>();
        journal.WhileCopying = ids =>
        {
            var relocated = ids.Where(stillOpen.Contains).ToList();
            if (relocated.Count > 0)
            {
                closedWhileCopied.AddRange(relocated);
                journal.Acknowledge(relocated);
            }
        };

        var framesBefore = journal.FrameCount;
        var second = Enumerable.Range(0, 700).Select(i => Minimal(startedAt: T0.AddSeconds(10).AddMilliseconds(i))).ToList();
        foreach (var record in second)
        {
            await journal.AppendAsync(record, CancellationToken.None);
        }

        // The relocation happened, its records closed during the copy, and every write after it succeeded (the frames
        // also count later relocations of the second records' first segment, which the first records left mostly dead).
        output.WriteLine($"{closedWhileCopied.Count} of {stillOpen.Count} closed while copied; {journal.FrameCount - framesBefore} frames");
        Assert.NotEmpty(closedWhileCopied);
        Assert.True(journal.FrameCount - framesBefore >= second.Count + closedWhileCopied.Count);
        Assert.Equal(second.Count + stillOpen.Count - closedWhileCopied.Count, journal.OpenCount);
        foreach (var record in second)
        {
            Assert.Equal(record.Id, UsageJournalCodec.Decode(journal.TryGetOpen(record.Id)).Id);
        }
    }

    [Fact]
    public async Task Under_synchronous_full_every_group_commit_is_fsynced_and_under_normal_none()
    {
        using var full = new TempFolder();
        await using (var store = TestStore.Open(full.DbPath, configure: o => o.Synchronous = SqliteSynchronousMode.Full))
        {
            await Task.WhenAll(Enumerable.Range(0, 20).Select(i => store.Usage.OpenAsync(Minimal(startedAt: T0.AddSeconds(i))).AsTask()));
            var journal = store.Writer.Journal;
            Assert.True(journal.FsyncCount > 0);
            Assert.Equal(journal.WriteCount, journal.FsyncCount);
        }

        using var normal = new TempFolder();
        await using (var store = TestStore.Open(normal.DbPath))
        {
            await Task.WhenAll(Enumerable.Range(0, 20).Select(i => store.Usage.OpenAsync(Minimal(startedAt: T0.AddSeconds(i))).AsTask()));
            Assert.True(store.Writer.Journal.WriteCount > 0);
            Assert.Equal(0, store.Writer.Journal.FsyncCount);
        }
    }

    [Fact]
    public async Task An_open_is_written_to_the_journal_not_to_sqlite_and_a_clean_stop_with_nothing_open_leaves_no_segment()
    {
        using var dir = new TempFolder();
        await using (var store = TestStore.Open(dir.DbPath))
        {
            var transactions = store.Usage.TransactionCount;
            var record = Minimal();

            // Into an idle journal the caller writes its own frame: the open is durable when the call returns, with no
            // hand-off to another thread to wait for.
            var opening = store.Usage.OpenAsync(record);
            Assert.True(opening.IsCompletedSuccessfully);
            await opening;
            Assert.Equal(transactions, store.Usage.TransactionCount);
            Assert.Single(Segments(dir.DbPath));
            record.Status = UsageStatus.Completed;
            await store.Usage.CloseAsync(record);
            Assert.Equal(0, store.Writer.Journal.OpenCount);
        }

        Assert.Empty(Segments(dir.DbPath));
    }

    [Fact]
    public async Task A_schema_6_file_with_an_open_journal_row_migrates_to_the_journal_file_and_recovery_closes_it()
    {
        using var dir = new TempFolder();
        var open = Full(T0);
        var closed = Minimal(startedAt: T0.AddSeconds(1));
        using (var connection = new SqliteConnection($"Data Source={dir.DbPath}"))
        {
            connection.Open();
            using (var wal = connection.CreateCommand())
            {
                wal.CommandText = "PRAGMA journal_mode = WAL;";
                wal.ExecuteNonQuery();
            }

            SqliteSchema.Migrate(connection, target: 6);

            // As schema 6 left them: two open rows (one its close has since written to usage_records).
            foreach (var record in new[] { open, closed })
            {
                var buffer = new System.Buffers.ArrayBufferWriter<byte>();
                UsageJournalCodec.Encode(record, buffer);
                using var insert = connection.CreateCommand();
                insert.CommandText = "INSERT INTO usage_journal (id, record) VALUES (@id, @record);";
                insert.Parameters.AddWithValue("@id", record.Id);
                insert.Parameters.AddWithValue("@record", buffer.WrittenSpan.ToArray());
                insert.ExecuteNonQuery();
            }

            using var close = connection.CreateCommand();
            close.CommandText = """
                INSERT INTO usage_records (id, account_id, key_id, surface, stream, started_at, status, native_reported,
                    reference_input_tokens, reference_output_tokens, quality, non_text_input)
                VALUES (@id, 'acct_0000000000000001', 'key_1', 'openai.chat_completions', 0, 0, 'completed', 0, 1, 2, 'estimated', 0);
                """;
            close.Parameters.AddWithValue("@id", closed.Id);
            close.ExecuteNonQuery();
            SqliteConnection.ClearPool(connection);
        }

        await using var store = TestStore.Open(dir.DbPath);
        using (var connection = store.Database.OpenConnection())
        using (var command = connection.CreateCommand())
        {
            command.CommandText = "SELECT (SELECT user_version FROM pragma_user_version), (SELECT COUNT(*) FROM sqlite_master WHERE name = 'usage_journal');";
            using var reader = command.ExecuteReader();
            Assert.True(reader.Read());
            Assert.Equal(((long)SqliteSchema.CurrentVersion, 0L), (reader.GetInt64(0), reader.GetInt64(1)));
        }

        Assert.Equal(UsageStatus.Open, (await store.Usage.GetAsync(open.Id))!.Status);
        Assert.Equal(1, await store.Usage.RecoverOpenAsync());
        var recovered = await store.Usage.GetAsync(open.Id);
        Assert.Equal((UsageStatus.Interrupted, SqliteUsageStore.InterruptedError), (recovered!.Status, recovered.Error));
        Assert.Equal(open.AccountId, recovered.AccountId);
        Assert.Equal(UsageStatus.Completed, (await store.Usage.GetAsync(closed.Id))!.Status);

        // Like any recovery, it logs what it closed.
        var log = new SqliteUsageLog(store.Database, store.Writer);
        Assert.NotNull(await log.FindAsync(open.Id));
        Assert.Empty(Segments(dir.DbPath));
    }

    private static string[] Segments(string databasePath)
    {
        var folder = JournalFrames.FolderFor(databasePath);
        return Directory.Exists(folder) ? Directory.GetFiles(folder, "*" + JournalFrames.SegmentExtension) : [];
    }

    private static long FolderBytes(string databasePath)
    {
        long total = 0;
        foreach (var path in Segments(databasePath))
        {
            try
            {
                total += new FileInfo(path).Length;
            }
            catch (FileNotFoundException)
            {
                // Deleted between the listing and the stat.
            }
        }

        return total;
    }
}
