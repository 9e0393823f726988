using System.Diagnostics;
using System.Net.Http.Headers;

namespace MeterAgent.LoadHarness;

/// <summary>
/// N workers, each sending one request at a time in a loop until the window closes, timing every request
/// (and, for streams, the first content event). Requests in flight when the window closes are finished and counted.
/// </summary>
internal sealed class LoadGenerator(HttpClient client, AllocationSampler? sampler = null)
{
    private static readonly byte[] ContentMarker = "\"content\":\""u8.ToArray();
    private static readonly byte[] DoneMarker = "[DONE]"u8.ToArray();

    /// <summary>Load that is not measured: the requests are sent and checked, and nothing is kept.</summary>
    public Task PrewarmAsync(Target target, Scenario scenario, int concurrency, TimeSpan time, CancellationToken cancellationToken) =>
        RunAsync(target, scenario, NewLogs(concurrency, 4096), time, cancellationToken);

    /// <summary>Runs one cell: a warm-up (not measured), then the measured window with allocation, CPU and GC deltas.</summary>
    public async Task<CellRun> RunCellAsync(Target target, Scenario scenario, int concurrency, TimeSpan warmup, TimeSpan duration, CancellationToken cancellationToken)
    {
        var estimate = 0L;
        if (warmup > TimeSpan.Zero)
        {
            var warm = NewLogs(concurrency, 4096);
            var warmTime = await RunAsync(target, scenario, warm, warmup, cancellationToken);
            estimate = (long)(warm.Sum(w => (long)w.Count) / warmTime.TotalSeconds * duration.TotalSeconds);
        }

        // Sized from the warm-up rate with head room, so the arrays are not grown (allocated) inside the window.
        var logs = NewLogs(concurrency, (int)Math.Clamp(estimate * 2 / concurrency + 1024, 1024, 4_000_000));

        var gen0 = GC.CollectionCount(0);
        var gen1 = GC.CollectionCount(1);
        var gen2 = GC.CollectionCount(2);
        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        sampler?.Start();
        var allocated = GC.GetTotalAllocatedBytes(precise: true);

        var elapsed = await RunAsync(target, scenario, logs, duration, cancellationToken);

        var allocatedAfter = GC.GetTotalAllocatedBytes(precise: true);
        if (sampler is not null)
        {
            var requests = Math.Max(1, logs.Sum(w => (long)w.Count));
            Console.Error.WriteLine($"allocation by type, {target.Kind} {scenario.Kind} c={concurrency} (bytes/request, sampled):");
            foreach (var (type, bytes) in sampler.Stop(allocatedAfter - allocated).Take(40))
            {
                Console.Error.WriteLine($"  {bytes / requests,9:0} {type}");
            }
        }

        var cpuAfter = Process.GetCurrentProcess().TotalProcessorTime;
        return new CellRun(
            target.Kind,
            scenario.Kind,
            concurrency,
            logs.Sum(w => (long)w.Count),
            logs.Sum(w => w.Errors),
            logs.Select(w => w.LastError).LastOrDefault(e => e is not null),
            elapsed,
            Merge(logs, w => w.Latency),
            Merge(logs, w => w.Ttft),
            allocatedAfter - allocated,
            cpuAfter - cpu,
            GC.CollectionCount(0) - gen0,
            GC.CollectionCount(1) - gen1,
            GC.CollectionCount(2) - gen2);
    }

    private async Task<TimeSpan> RunAsync(Target target, Scenario scenario, WorkerLog[] logs, TimeSpan duration, CancellationToken cancellationToken)
    {
        var start = Stopwatch.GetTimestamp();
        var end = start + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        var workers = new Task[logs.Length];
        for (var i = 0; i < logs.Length; i++)
        {
            var log = logs[i];
            workers[i] = Task.Run(() => WorkAsync(target, scenario, log, end, cancellationToken), cancellationToken);
        }

        await Task.WhenAll(workers);
        return Stopwatch.GetElapsedTime(start);
    }

    private async Task WorkAsync(Target target, Scenario scenario, WorkerLog log, long end, CancellationToken cancellationToken)
    {
        var buffer = new byte[16 * 1024];
        while (Stopwatch.GetTimestamp() < end && !cancellationToken.IsCancellationRequested)
        {
            var started = Stopwatch.GetTimestamp();
            try
            {
                using var request = new HttpRequestMessage(HttpMethod.Post, target.ChatCompletions) { Content = new ByteArrayContent(scenario.Body) };
                request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", target.BearerKey);
                foreach (var (name, value) in scenario.Headers)
                {
                    request.Headers.TryAddWithoutValidation(name, value);
                }

                using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
                await using var body = await response.Content.ReadAsStreamAsync(cancellationToken);
                var content = new ByteMatcher(ContentMarker);
                var done = new ByteMatcher(DoneMarker);
                var sawDone = false;
                var pendingContentCheck = false;
                long firstContent = 0;
                long bytes = 0;
                int read;
                while ((read = await body.ReadAsync(buffer, cancellationToken)) > 0)
                {
                    bytes += read;
                    if (scenario.Stream)
                    {
                        var piece = buffer.AsSpan(0, read);
                        firstContent = firstContent != 0 ? firstContent : FirstContent(piece, ref content, ref pendingContentCheck);
                        sawDone |= done.Feed(piece) >= 0;
                    }
                }

                var finished = Stopwatch.GetTimestamp();
                if (!response.IsSuccessStatusCode || bytes == 0 || (scenario.Stream && (!sawDone || firstContent == 0)))
                {
                    log.Errors++;
                    log.LastError = $"HTTP {(int)response.StatusCode}, {bytes} bytes, [DONE] {sawDone}, content {firstContent != 0}";
                    continue;
                }

                log.Add(finished - started, scenario.Stream ? firstContent - started : 0);
            }
            catch (Exception ex) when (ex is HttpRequestException or IOException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
            {
                log.Errors++;
                log.LastError = ex.GetType().Name + ": " + ex.Message;

                // A refused connection fails in microseconds: do not spin on it.
                await Task.Delay(10, cancellationToken);
            }
        }
    }

    /// <summary>
    /// The timestamp when the first non-empty "content" string arrives (the role chunk's "content":"" does not count),
    /// or 0. The byte after the marker may be in the next read, hence <paramref name="pending"/>.
    /// </summary>
    private static long FirstContent(ReadOnlySpan<byte> piece, ref ByteMatcher matcher, ref bool pending)
    {
        while (true)
        {
            if (pending)
            {
                if (piece.IsEmpty)
                {
                    return 0;
                }

                pending = false;
                if (piece[0] != (byte)'"')
                {
                    return Stopwatch.GetTimestamp();
                }
            }

            var after = matcher.Feed(piece);
            if (after < 0)
            {
                return 0;
            }

            pending = true;
            piece = piece[after..];
        }
    }

    private static WorkerLog[] NewLogs(int count, int capacity)
    {
        var logs = new WorkerLog[count];
        for (var i = 0; i < count; i++)
        {
            logs[i] = new WorkerLog(capacity);
        }

        return logs;
    }

    private static long[] Merge(WorkerLog[] logs, Func<WorkerLog, ReadOnlySpan<long>> select)
    {
        var merged = new List<long>();
        foreach (var log in logs)
        {
            merged.AddRange(select(log));
        }

        var array = merged.ToArray();
        Array.Sort(array);
        return array;
    }
}
