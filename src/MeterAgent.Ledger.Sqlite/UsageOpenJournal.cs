using System.Buffers;
using System.Collections.Concurrent;
using System.Threading.Tasks.Sources;
using MeterAgent.Ledger.Usage;
using Microsoft.Extensions.Logging;

namespace MeterAgent.Ledger.Sqlite;

/// <summary>
/// The write-ahead record of every open, in append-only segment files beside the database (<c>&lt;path&gt;.journal/</c>,
/// format in <see cref="JournalFrames"/>), outside SQLite: an open never waits behind a SQLite commit or a WAL
/// checkpoint. Appends group-commit without a thread of their own: the caller that finds the journal idle becomes its
/// writer, drains every queued open (its own among them), writes their frames with one write and, under
/// <c>Synchronous=Full</c>, fsyncs before completing the callers; opens queued meanwhile are written by one thread-pool
/// work item that the writer hands over to. An open into an idle journal so costs its caller one <c>write(2)</c> and no
/// thread hop; under load, as many opens share a write as arrive during the one before. Under <c>Normal</c> the write
/// to the OS is the durability point, as for SQLite's WAL at <c>synchronous=NORMAL</c>: it survives <c>kill -9</c> of
/// the process, not a power loss.
/// </summary>
/// <remarks>
/// The close is the <c>usage_records</c> row, committed by <see cref="SqliteWriter"/>, which then acknowledges the id
/// here (<see cref="Acknowledge"/>). A segment is deleted once it is not the active one and every open in it is
/// acknowledged. When the active segment fills (<see cref="SqliteStoreOptions.JournalSegmentBytes"/>), the appender
/// rolls to a new one and copies into it the opens still live in any older segment (but the one it leaves) that is
/// less than a quarter live, so a few long requests cannot pin old segments: the folder holds about two segments plus
/// at most four times the bytes of the records in flight, however long the load lasts. Opens of a
/// previous run (files found at start) are loaded as open; recovery closes them and acknowledges them like any other.
/// </remarks>
internal sealed partial class UsageOpenJournal : IDisposable
{
    private readonly string _folder;
    private readonly bool _fsync;
    private readonly long _segmentBytes;
    private readonly ILogger _logger;
    private readonly ConcurrentQueue<OpenEntry> _queue = new();
    private readonly Lock _gate = new();

    // Guarded by _gate: the open records by id (a repeated open of one id chains its entries), and the segments.
    private readonly Dictionary<string, OpenEntry> _open = new(StringComparer.Ordinal);
    private readonly SortedDictionary<long, Segment> _segments = [];
    private long _nextSeq;
    private bool _stopping;

    // 1 while a caller or the hand-over work item is writing; only that writer touches the fields below it.
    private int _writing;
    private readonly List<OpenEntry> _batch = [];
    private readonly List<OpenEntry> _relocating = [];
    private byte[] _buffer = new byte[64 * 1024];
    private Segment? _active;
    private FileStream? _file;

    private long _fsyncs;
    private long _writes;
    private long _appended;
    private int _openCount;

    [ThreadStatic]
    private static ArrayBufferWriter<byte>? t_encoder;

    public UsageOpenJournal(string databasePath, SqliteStoreOptions options, ILogger logger)
    {
        _folder = JournalFrames.FolderFor(databasePath);
        _fsync = options.Synchronous == SqliteSynchronousMode.Full;
        _segmentBytes = options.JournalSegmentBytes;
        _logger = logger;
        LoadPrevious();
    }

    /// <summary>The journal's folder.</summary>
    public string Folder => _folder;

    /// <summary>fsyncs of a segment (one per group commit under <c>Synchronous=Full</c>, none under <c>Normal</c>).</summary>
    internal long FsyncCount => Interlocked.Read(ref _fsyncs);

    /// <summary>Group-commit writes: with concurrent callers, far fewer than the opens.</summary>
    internal long WriteCount => Interlocked.Read(ref _writes);

    /// <summary>Open frames written (relocated copies included).</summary>
    internal long FrameCount => Interlocked.Read(ref _appended);

    /// <summary>
    /// Tests only: called by the appender with the ids of the opens it is about to copy into a write (relocated ones
    /// first), before it copies them, so a test can close them at that moment.
    /// </summary>
    internal Action<List<string>>? WhileCopying { get; set; }

    /// <summary>Records open now (acknowledged ones are gone).</summary>
    public int OpenCount => Volatile.Read(ref _openCount);

    /// <summary>Segment files the journal holds now.</summary>
    internal int SegmentCount
    {
        get
        {
            lock (_gate)
            {
                return _segments.Count;
            }
        }
    }

    /// <summary>
    /// Writes the record's open frame. Completes once it is written (and fsynced under <c>Full</c>). Cancelling stops
    /// the wait, not the write.
    /// </summary>
    public ValueTask AppendAsync(UsageRecord record, CancellationToken cancellationToken)
    {
        OpenEntry entry;
        try
        {
            var encoder = t_encoder ??= new ArrayBufferWriter<byte>(512);
            UsageJournalCodec.Encode(record, encoder);
            cancellationToken.ThrowIfCancellationRequested();
            entry = OpenEntry.Rented(record.Id, encoder.WrittenSpan);
        }
        catch (Exception ex)
        {
            return ValueTask.FromException(ex);
        }

        lock (_gate)
        {
            if (_stopping)
            {
                entry.ReturnPayload();
                return ValueTask.FromException(new ObjectDisposedException(nameof(UsageOpenJournal), "The store is stopped; nothing was written."));
            }

            if (_open.TryGetValue(record.Id, out var head))
            {
                while (head.Next is not null)
                {
                    head = head.Next;
                }

                head.Next = entry;
            }
            else
            {
                _open.Add(record.Id, entry);
                _openCount = _open.Count;
            }

            // Under the lock, so a stop that has drained the queue cannot miss it.
            _queue.Enqueue(entry);
        }

        if (TryStartWriting())
        {
            if (Volatile.Read(ref _openCount) > InlineOpenLimit)
            {
                // Busy: a work item writes, and the opens that arrive before it runs share its write.
                HandOver();
            }
            else
            {
                // Nearly idle, nothing to share a write with: this caller writes its open itself, with no hand-off.
                try
                {
                    WriteQueued();
                }
                finally
                {
                    StopWriting();
                }
            }
        }

        var pending = new ValueTask(entry, 0);
        return cancellationToken.CanBeCanceled ? new ValueTask(pending.AsTask().WaitAsync(cancellationToken)) : pending;
    }

    /// <summary>
    /// The records whose <c>usage_records</c> rows have just committed: their opens are closed. Called by the writer
    /// after each commit; an id with no open here (a close without an open) is ignored.
    /// </summary>
    public void Acknowledge(List<string> ids)
    {
        if (ids.Count == 0)
        {
            return;
        }

        List<Segment>? delete = null;
        lock (_gate)
        {
            foreach (var id in ids)
            {
                if (!_open.Remove(id, out var entry))
                {
                    continue;
                }

                for (; entry is not null; entry = entry.Next)
                {
                    entry.Closed = true;
                    if (entry.Segment is { } segment)
                    {
                        entry.Segment = null;
                        Release(segment, entry.FrameBytes, ref delete);
                    }

                    // Not while the appender copies it (queued, being written, or relocated): it returns the buffer then.
                    if (!entry.InWriter)
                    {
                        entry.ReturnPayload();
                    }
                }
            }

            _openCount = _open.Count;

            // Segments with nothing live that nobody released (a previous run's empty or torn file).
            foreach (var segment in _segments.Values)
            {
                if (segment.Live == 0 && !segment.Active && !segment.Doomed)
                {
                    segment.Doomed = true;
                    (delete ??= []).Add(segment);
                }
            }

            if (delete is not null)
            {
                foreach (var segment in delete)
                {
                    _segments.Remove(segment.Seq);
                }
            }
        }

        DeleteFiles(delete);
    }

    /// <summary>The open record's packed bytes, if it is open and its frame written.</summary>
    public byte[]? TryGetOpen(string id)
    {
        lock (_gate)
        {
            for (_open.TryGetValue(id, out var entry); entry is not null; entry = entry.Next)
            {
                if (entry.Segment is not null)
                {
                    // A copy: the entry's buffer goes back to the pool when the record closes.
                    return entry.Payload.ToArray();
                }
            }
        }

        return null;
    }

    /// <summary>Every open record whose frame is written, once per id, as packed bytes.</summary>
    public List<(string Id, byte[] Payload)> SnapshotOpen()
    {
        lock (_gate)
        {
            var open = new List<(string, byte[])>(_open.Count);
            foreach (var (id, head) in _open)
            {
                for (var entry = head; entry is not null; entry = entry.Next)
                {
                    if (entry.Segment is not null)
                    {
                        open.Add((id, entry.Payload.ToArray()));
                        break;
                    }
                }
            }

            return open;
        }
    }

    /// <summary>Writes what is queued, stops the appender, and deletes the segments with nothing open left in them.</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            if (_stopping)
            {
                return;
            }

            _stopping = true;
        }

        // The writer in progress finishes its batch; what is still queued is written here.
        var wait = new SpinWait();
        while (!TryStartWriting())
        {
            wait.SpinOnce();
        }

        while (!_queue.IsEmpty)
        {
            WriteQueued();
        }

        _file?.Dispose();
        _file = null;
        List<Segment>? delete = null;
        lock (_gate)
        {
            if (_active is { } active)
            {
                active.Active = false;
            }

            foreach (var segment in _segments.Values)
            {
                if (segment.Live == 0)
                {
                    (delete ??= []).Add(segment);
                }
            }

            if (delete is not null)
            {
                foreach (var segment in delete)
                {
                    _segments.Remove(segment.Seq);
                }
            }
        }

        DeleteFiles(delete);
    }

    private void LoadPrevious()
    {
        var files = JournalFrames.ListSegments(_folder);
        foreach (var (seq, path) in files)
        {
            var segment = new Segment(seq, path) { Length = new FileInfo(path).Length };
            _segments.Add(seq, segment);
            try
            {
                var clean = JournalFrames.ReadSegment(path, frame =>
                {
                    var id = UsageJournalCodec.Decode(frame.Span).Id;
                    var entry = OpenEntry.Copied(id, frame.Span);
                    entry.Segment = segment;
                    segment.Live++;
                    segment.LiveBytes += entry.FrameBytes;
                    if (_open.TryGetValue(id, out var head))
                    {
                        while (head.Next is not null)
                        {
                            head = head.Next;
                        }

                        head.Next = entry;
                    }
                    else
                    {
                        _open.Add(id, entry);
                    }
                });
                if (!clean)
                {
                    LogTornTail(path);
                }
            }
            catch (Exception ex) when (ex is IOException or InvalidDataException)
            {
                LogUnreadable(ex, path);
            }

            _nextSeq = Math.Max(_nextSeq, seq + 1);
        }

        _openCount = _open.Count;
    }

    // With at most this many records open, an open is written by its own caller (see AppendAsync).
    private const int InlineOpenLimit = 2;

    private bool TryStartWriting() => Interlocked.CompareExchange(ref _writing, 1, 0) == 0;

    /// <summary>
    /// Ends this writer's turn. Opens queued during its write are handed to one thread-pool work item that writes until
    /// the queue is empty: the caller returns to its own request instead of writing for others.
    /// </summary>
    private void StopWriting()
    {
        Volatile.Write(ref _writing, 0);
        if (!_queue.IsEmpty && !Volatile.Read(ref _stopping) && TryStartWriting())
        {
            HandOver();
        }
    }

    /// <summary>The writer's turn, already taken, passes to a thread-pool work item that writes until the queue is empty.</summary>
    private void HandOver() => ThreadPool.UnsafeQueueUserWorkItem(static journal => journal.WriteUntilEmpty(), this, preferLocal: false);

    private void WriteUntilEmpty()
    {
        while (true)
        {
            while (!_queue.IsEmpty)
            {
                WriteQueued();
            }

            Volatile.Write(ref _writing, 0);

            // Something queued after the last look, by a caller that found this writer still busy: take it too.
            if (_queue.IsEmpty || Volatile.Read(ref _stopping) || !TryStartWriting())
            {
                return;
            }
        }
    }

    /// <summary>Writes one batch of what is queued (up to 4 MiB of frames). Only the writer of the moment calls it.</summary>
    private void WriteQueued()
    {
        if (!_queue.TryDequeue(out var first))
        {
            return;
        }

        _batch.Add(first);
        var bytes = (long)first.FrameBytes;
        while (bytes < 4 * 1024 * 1024 && _queue.TryDequeue(out var next))
        {
            _batch.Add(next);
            bytes += next.FrameBytes;
        }

        try
        {
            WriteBatch(bytes);
        }
        finally
        {
            _batch.Clear();
            _relocating.Clear();
        }
    }

    private void WriteBatch(long batchBytes)
    {
        List<Segment>? delete = null;
        Exception? failure = null;
        Segment? written = null;
        try
        {
            if (_active is null || _file is null || (_active.Length > JournalFrames.SegmentHeaderBytes && _active.Length + batchBytes > _segmentBytes))
            {
                Roll();
            }

            var length = (int)Math.Min(batchBytes, int.MaxValue);
            foreach (var entry in _relocating)
            {
                length += entry.FrameBytes;
            }

            var header = _active!.Length == 0 ? JournalFrames.SegmentHeaderBytes : 0;
            length += header;
            if (_buffer.Length < length)
            {
                _buffer = new byte[Math.Max(length, _buffer.Length * 2)];
            }

            WhileCopying?.Invoke(_relocating.Select(entry => entry.Id).Concat(_batch.Select(entry => entry.Id)).ToList());
            var span = _buffer.AsSpan(0, length);
            var position = 0;
            if (header > 0)
            {
                JournalFrames.WriteSegmentHeader(span);
                position = header;
            }

            foreach (var entry in _relocating)
            {
                position += JournalFrames.WriteFrame(span[position..], entry.Payload);
            }

            foreach (var entry in _batch)
            {
                position += JournalFrames.WriteFrame(span[position..], entry.Payload);
            }

            _file!.Write(span[..position]);
            if (_fsync)
            {
                _file.Flush(flushToDisk: true);
                Interlocked.Increment(ref _fsyncs);
            }

            _active.Length += position;
            Interlocked.Increment(ref _writes);
            Interlocked.Add(ref _appended, _batch.Count + _relocating.Count);
            written = _active;
        }
        catch (Exception ex)
        {
            // Nothing in this batch is durable, and the segment may now end in a torn frame: what follows goes to a new one.
            failure = ex;
            LogWriteFailed(ex, _batch.Count);
            _file?.Dispose();
            _file = null;
        }

        lock (_gate)
        {
            if (written is not null)
            {
                foreach (var entry in _relocating)
                {
                    // Closed meanwhile: its old frame was already released by the acknowledgement.
                    if (!entry.Closed && entry.Segment is { } old)
                    {
                        entry.Segment = written;
                        written.Live++;
                        written.LiveBytes += entry.FrameBytes;
                        Release(old, entry.FrameBytes, ref delete);
                    }
                }

                foreach (var entry in _batch)
                {
                    if (!entry.Closed)
                    {
                        entry.Segment = written;
                        written.Live++;
                        written.LiveBytes += entry.FrameBytes;
                    }
                }
            }
            else
            {
                foreach (var entry in _batch)
                {
                    Forget(entry);

                    // Never written and no longer open: nobody reads it again.
                    entry.Closed = true;
                }

                _openCount = _open.Count;
            }

            // The appender is done with these buffers: those whose records closed meanwhile go back to the pool now.
            foreach (var entry in _relocating)
            {
                LeaveWriter(entry);
            }

            foreach (var entry in _batch)
            {
                LeaveWriter(entry);
            }

            if (delete is not null)
            {
                foreach (var segment in delete)
                {
                    _segments.Remove(segment.Seq);
                }
            }
        }

        DeleteFiles(delete);
        foreach (var entry in _batch)
        {
            if (failure is null)
            {
                entry.SetResult();
            }
            else
            {
                entry.SetException(failure);
            }
        }
    }

    /// <summary>Starts a new active segment; queues for copying the opens still live in segments older than the one left.</summary>
    private void Roll()
    {
        _file?.Dispose();
        _file = null;
        Segment segment;
        List<Segment>? delete = null;
        lock (_gate)
        {
            var previous = _active;
            segment = new Segment(_nextSeq++, JournalFrames.SegmentPath(_folder, _nextSeq - 1)) { Active = true };
            _segments.Add(segment.Seq, segment);
            _active = segment;
            if (previous is not null)
            {
                previous.Active = false;
                if (previous.Live == 0 && !previous.Doomed)
                {
                    previous.Doomed = true;
                    (delete ??= []).Add(previous);
                    _segments.Remove(previous.Seq);
                }
            }

            // Mostly dead segments are worth copying out of; mostly live ones are kept as they are (copying them would only
            // write the same records again).
            foreach (var old in _segments.Values)
            {
                old.Relocate = old != previous && old != segment && old.Live > 0 && old.LiveBytes * 4 < old.Length;
            }

            foreach (var (_, head) in _open)
            {
                for (var entry = head; entry is not null; entry = entry.Next)
                {
                    if (entry.Segment is { Relocate: true })
                    {
                        entry.InWriter = true;
                        _relocating.Add(entry);
                    }
                }
            }
        }

        DeleteFiles(delete);
        if (!Directory.Exists(_folder))
        {
            if (OperatingSystem.IsWindows())
            {
                Directory.CreateDirectory(_folder);
            }
            else
            {
                Directory.CreateDirectory(_folder, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            }
        }

        var fileOptions = new FileStreamOptions
        {
            Mode = FileMode.CreateNew,
            Access = FileAccess.Write,
            Share = FileShare.Read | FileShare.Delete,
            BufferSize = 0,
        };
        if (!OperatingSystem.IsWindows())
        {
            fileOptions.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        _file = new FileStream(segment.Path, fileOptions);
        if (_fsync)
        {
            // The new file's name must survive a power loss as its frames will.
            DirectorySync.Flush(_folder);
        }
    }

    // Under _gate: one frame in the segment is no longer live.
    private static void Release(Segment segment, int frameBytes, ref List<Segment>? delete)
    {
        segment.Live--;
        segment.LiveBytes -= frameBytes;
        if (segment.Live == 0 && !segment.Active && !segment.Doomed)
        {
            segment.Doomed = true;
            (delete ??= []).Add(segment);
        }
    }

    // Under _gate: the appender has copied the entry's payload; a closed entry's buffer goes back to the pool.
    private static void LeaveWriter(OpenEntry entry)
    {
        entry.InWriter = false;
        if (entry.Closed)
        {
            entry.ReturnPayload();
        }
    }

    // Under _gate: an entry whose frame was never written leaves the bookkeeping (its caller gets the write's error).
    private void Forget(OpenEntry entry)
    {
        if (!_open.TryGetValue(entry.Id, out var head))
        {
            return;
        }

        if (head == entry)
        {
            if (entry.Next is null)
            {
                _open.Remove(entry.Id);
            }
            else
            {
                _open[entry.Id] = entry.Next;
            }

            return;
        }

        for (; head.Next is not null; head = head.Next)
        {
            if (head.Next == entry)
            {
                head.Next = entry.Next;
                return;
            }
        }
    }

    private void DeleteFiles(List<Segment>? segments)
    {
        if (segments is null)
        {
            return;
        }

        foreach (var segment in segments)
        {
            try
            {
                File.Delete(segment.Path);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // Not fatal: recovery at the next start finds its opens closed and deletes it then.
                LogDeleteFailed(ex, segment.Path);
            }
        }
    }

    private sealed class Segment(long seq, string path)
    {
        public long Seq { get; } = seq;

        public string Path { get; } = path;

        /// <summary>Frames in it whose records are still open.</summary>
        public int Live { get; set; }

        public bool Active { get; set; }

        /// <summary>Chosen for deletion (once only).</summary>
        public bool Doomed { get; set; }

        public long LiveBytes { get; set; }

        /// <summary>Its live frames are being copied to the active segment.</summary>
        public bool Relocate { get; set; }

        /// <summary>Bytes in the file (set once written; read under the lock when rolling).</summary>
        public long Length { get; set; }
    }

    /// <summary>One open: its frame's bytes, where the frame is, and its caller's wait.</summary>
    /// <remarks>
    /// An open's bytes are kept until its record closes (for reads of open records and for relocation), in a buffer
    /// rented from <see cref="ArrayPool{T}.Shared"/> rather than an array of their own per request. The buffer goes back
    /// once the record is closed and the appender is not copying it (<see cref="InWriter"/>), both decided under the
    /// journal's lock; readers outside the appender get a copy made under that lock.
    /// </remarks>
    private sealed class OpenEntry : IValueTaskSource
    {
        // Continuations run on the thread pool: a caller must never run on, and stall, the writer of the moment.
        private ManualResetValueTaskSourceCore<bool> _core = new() { RunContinuationsAsynchronously = true };
        private byte[]? _payload;
        private readonly bool _pooled;

        private OpenEntry(string id, byte[] payload, int length, bool pooled)
        {
            Id = id;
            _payload = payload;
            PayloadLength = length;
            _pooled = pooled;
        }

        /// <summary>A new open, queued for the appender: its bytes in a pooled buffer.</summary>
        public static OpenEntry Rented(string id, ReadOnlySpan<byte> payload)
        {
            var buffer = ArrayPool<byte>.Shared.Rent(payload.Length);
            payload.CopyTo(buffer);
            return new OpenEntry(id, buffer, payload.Length, pooled: true) { InWriter = true };
        }

        /// <summary>An open read back from a segment at start: an array of its own.</summary>
        public static OpenEntry Copied(string id, ReadOnlySpan<byte> payload) => new(id, payload.ToArray(), payload.Length, pooled: false);

        public string Id { get; }

        /// <summary>The packed record; valid until <see cref="ReturnPayload"/>.</summary>
        public ReadOnlySpan<byte> Payload => _payload is { } payload
            ? payload.AsSpan(0, PayloadLength)
            : throw new InvalidOperationException($"The open of {Id} was read after its buffer was returned.");

        public int PayloadLength { get; }

        public int FrameBytes => JournalFrames.FrameHeaderBytes + PayloadLength;

        /// <summary>Under the journal's lock: the appender holds it (queued, in a write, or being relocated) and reads its bytes outside the lock.</summary>
        public bool InWriter { get; set; }

        /// <summary>Under the journal's lock, once the record is closed and the appender is done with it.</summary>
        public void ReturnPayload()
        {
            if (_payload is { } payload)
            {
                _payload = null;
                if (_pooled)
                {
                    ArrayPool<byte>.Shared.Return(payload);
                }
            }
        }

        /// <summary>The segment holding its live frame; null until written, and again once closed.</summary>
        public Segment? Segment { get; set; }

        public bool Closed { get; set; }

        /// <summary>A later open of the same id (a retry) while this one is still open.</summary>
        public OpenEntry? Next { get; set; }

        public void SetResult() => _core.SetResult(true);

        public void SetException(Exception exception) => _core.SetException(exception);

        public void GetResult(short token) => _core.GetResult(token);

        public ValueTaskSourceStatus GetStatus(short token) => _core.GetStatus(token);

        public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
            _core.OnCompleted(continuation, state, token, flags);
    }

    [LoggerMessage(EventId = 1120, Level = LogLevel.Warning,
        Message = "Usage journal segment {Path} ends in a torn or corrupt frame (a crash mid-write); the frames before it are used")]
    private partial void LogTornTail(string path);

    [LoggerMessage(EventId = 1121, Level = LogLevel.Error, Message = "Usage journal segment {Path} could not be read")]
    private partial void LogUnreadable(Exception exception, string path);

    [LoggerMessage(EventId = 1122, Level = LogLevel.Error, Message = "Writing {Count} opens to the usage journal failed")]
    private partial void LogWriteFailed(Exception exception, int count);

    [LoggerMessage(EventId = 1123, Level = LogLevel.Warning, Message = "Deleting usage journal segment {Path} failed")]
    private partial void LogDeleteFailed(Exception exception, string path);
}
