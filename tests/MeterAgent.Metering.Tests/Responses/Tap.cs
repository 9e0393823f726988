using System.Text;
using MeterAgent.Metering.Responses;
using MeterAgent.Metering.Surfaces;

namespace MeterAgent.Metering.Tests.Responses;

/// <summary>Feeds a response through a <see cref="ResponseMeter"/> in chosen pieces and collects what the client would get.</summary>
internal static class Tap
{
    public const string EventStream = "text/event-stream";
    public const string Json = "application/json";

    public static (byte[] Client, MeteredResponse Result) Run(ApiSurface surface, string contentType, bool hide, byte[] body, IEnumerable<int> cuts)
    {
        var meter = new ResponseMeter(surface, contentType, hide);
        var client = new List<byte>(body.Length);
        var start = 0;
        foreach (var cut in cuts)
        {
            client.AddRange(meter.Process(body.AsMemory(start, cut - start)).ToArray());
            start = cut;
        }

        client.AddRange(meter.Process(body.AsMemory(start)).ToArray());
        var (remaining, result) = meter.Complete();
        client.AddRange(remaining.ToArray());
        return (client.ToArray(), result);
    }

    public static (byte[] Client, MeteredResponse Result) Whole(ApiSurface surface, string contentType, string body, bool hide = false) =>
        Run(surface, contentType, hide, Encoding.UTF8.GetBytes(body), []);

    /// <summary>The meter's own first-token flag after the whole body (JSON sets it only for a complete, non-error body).</summary>
    public static bool SawFirstToken(ApiSurface surface, string contentType, string body)
    {
        var meter = new ResponseMeter(surface, contentType, hideUsageChunk: false);
        meter.Process(Encoding.UTF8.GetBytes(body));
        meter.Complete();
        return meter.SawFirstToken;
    }

    public static IEnumerable<int> SingleBytes(int length) => Enumerable.Range(1, Math.Max(0, length - 1));
}
