using System.Globalization;
using Microsoft.Diagnostics.Tracing.Etlx;
using Microsoft.Diagnostics.Tracing.Parsers.Clr;

namespace MeterAgent.Benchmarks;

/// <summary>
/// Where a request's bytes go (<c>--alloc-sites TRACE REQUESTS</c>, run by <c>tests/perf/allocs.sh</c>): reads a
/// <c>dotnet-trace --profile gc-verbose</c> file of the agent under load and sums its <c>GC/AllocationTick</c> events
/// (one per ~100 KB a thread allocates, naming the type, with the stack) by type, and by the first MeterAgent method on
/// the stack with the type, each divided by the requests the agent served while the trace ran. Sampled: a type under
/// ~20 B per request is noise.
/// </summary>
internal static class AllocationSites
{
    private const int Rows = 40;

    public static void Print(string tracePath, long requests, TextWriter output)
    {
        if (requests <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(requests), requests, "The requests served during the trace must be positive.");
        }

        var etlx = TraceLog.CreateFromEventPipeDataFile(tracePath);
        try
        {
            using var log = new TraceLog(etlx);
            var byType = new Dictionary<string, double>(StringComparer.Ordinal);
            var bySite = new Dictionary<string, double>(StringComparer.Ordinal);
            double total = 0;
            foreach (var traceEvent in log.Events)
            {
                if (traceEvent is not GCAllocationTickTraceData tick)
                {
                    continue;
                }

                double bytes = tick.AllocationAmount64;
                var type = tick.TypeName ?? "?";
                total += bytes;
                Add(byType, type, bytes);
                Add(bySite, $"{FirstMeterAgentFrame(traceEvent.CallStack())}  [{type}]", bytes);
            }

            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{total / requests:F0} bytes per request in all, over {requests} requests"));
            Write(output, "by type", byType, requests);
            Write(output, "by the first MeterAgent method on the stack, and type", bySite, requests);
        }
        finally
        {
            File.Delete(etlx);
        }
    }

    private static string FirstMeterAgentFrame(TraceCallStack? stack)
    {
        for (var frame = stack; frame is not null; frame = frame.Caller)
        {
            var method = frame.CodeAddress.FullMethodName;
            if (method is not null && method.StartsWith("MeterAgent.", StringComparison.Ordinal))
            {
                var arguments = method.IndexOf('(', StringComparison.Ordinal);
                return arguments < 0 ? method : method[..arguments];
            }
        }

        return "(no MeterAgent method: the server's or the runtime's own)";
    }

    private static void Add(Dictionary<string, double> sums, string key, double bytes) =>
        sums[key] = sums.GetValueOrDefault(key) + bytes;

    private static void Write(TextWriter output, string title, Dictionary<string, double> sums, long requests)
    {
        output.WriteLine();
        output.WriteLine($"| bytes/request | {title} |");
        output.WriteLine("|---:|---|");
        foreach (var (key, bytes) in sums.OrderByDescending(pair => pair.Value).Take(Rows))
        {
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {bytes / requests:F0} | {key} |"));
        }
    }
}
