using System.Globalization;
using System.Net.Http.Headers;
using System.Text;

namespace MeterAgent.LoadHarness;

/// <summary>
/// Redis commands per proxied request on the agent-redis target: <c>INFO commandstats</c> read before and after a fixed
/// number of small requests sent one at a time (so none overlap and every pipeline is one request's), less what the
/// agent's background work (lease renewal, log polling, the expiry sweep, counter flushes) sends in an idle period of
/// the same length.
/// </summary>
internal static class RedisRoundTrips
{
    private const int Requests = 2000;

    public static async Task<string> MeasureAsync(HttpClient client, Target target, RunningRedis redis, CancellationToken cancellationToken)
    {
        var scenario = Scenario.Create(ScenarioKind.Small);

        // Let the load's settlements, ships and flushes drain, then the idle baseline over a period as long as the run.
        await Task.Delay(TimeSpan.FromSeconds(3), cancellationToken);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var before = await StatsAsync(redis);
        for (var i = 0; i < Requests; i++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, target.ChatCompletions) { Content = new ByteArrayContent(scenario.Body) };
            request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", target.BearerKey);
            using var response = await client.SendAsync(request, cancellationToken);
            response.EnsureSuccessStatusCode();
            await response.Content.ReadAsByteArrayAsync(cancellationToken);
        }

        // Settle and the counters' flush run after the response: wait for the last ones.
        await Task.Delay(TimeSpan.FromSeconds(2), cancellationToken);
        var after = await StatsAsync(redis);
        var elapsed = clock.Elapsed;
        await Task.Delay(elapsed, cancellationToken);
        var idle = await StatsAsync(redis);

        var md = new StringBuilder();
        md.AppendLine().AppendLine("## Redis commands per proxied request (agent-redis, credits on)").AppendLine();
        md.AppendLine(CultureInfo.InvariantCulture, $"{Requests} small requests one at a time; `INFO commandstats` before and after, less the idle background over the same {elapsed.TotalSeconds:0.0} s.").AppendLine();
        md.AppendLine("| command | calls during the run | idle background | per request |").AppendLine("|---|---:|---:|---:|");
        var total = 0.0;
        foreach (var command in after.Keys.Union(idle.Keys).Order(StringComparer.Ordinal))
        {
            var during = after.GetValueOrDefault(command) - before.GetValueOrDefault(command);
            var background = idle.GetValueOrDefault(command) - after.GetValueOrDefault(command);
            if (during == 0)
            {
                continue;
            }

            var perRequest = Math.Max(0, during - background) / (double)Requests;
            total += perRequest;
            md.AppendLine(CultureInfo.InvariantCulture, $"| {command} | {during} | {background} | {perRequest:0.00} |");
        }

        md.AppendLine(CultureInfo.InvariantCulture, $"| **all** | | | **{total:0.00}** |");
        Console.Error.WriteLine($"Redis commands per request: {total:0.00}");
        return md.ToString();
    }

    /// <summary>calls per command from <c>INFO commandstats</c> (<c>cmdstat_evalsha:calls=12,...</c>).</summary>
    private static async Task<Dictionary<string, long>> StatsAsync(RunningRedis redis)
    {
        var stats = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var line in (await redis.CliAsync("INFO", "commandstats")).Split('\n', StringSplitOptions.TrimEntries))
        {
            if (!line.StartsWith("cmdstat_", StringComparison.Ordinal))
            {
                continue;
            }

            var colon = line.IndexOf(':', StringComparison.Ordinal);
            var calls = line[(colon + 1)..].Split(',')[0];
            stats[line["cmdstat_".Length..colon]] = long.Parse(calls["calls=".Length..], CultureInfo.InvariantCulture);
        }

        // INFO itself is one call per read: not the agent's.
        stats.Remove("info");
        return stats;
    }
}
